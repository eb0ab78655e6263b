"""Training data in one place: the shard format (``shards``), the replay of stored games into
network inputs (``replay``), the loader that turns shards into batches (``loader``) and the data
build from SGF records (``build``)."""
