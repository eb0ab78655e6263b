"""A deliberately faulty GTP engine for the match tests: ``faulty_gtp.py MODE``.

MODE says how it fails at its second genmove: ``illegal`` (replays its first
move's point), ``slow`` (sleeps 30 s), ``crash`` (exits), ``garbage`` (answers
with a non-vertex); ``refuse`` answers every ``play`` with an error; ``cycle
V1,V2,...`` plays those vertices in turn, round and round; any other MODE never
fails. It plays the first empty point from A1 on.
"""

import sys
import time

mode = sys.argv[1]
script = sys.argv[2].split(",") if mode == "cycle" else []
size, taken, genmoves = 19, set(), 0
cols = "ABCDEFGHJKLMNOPQRSTUVWXYZ"
for line in sys.stdin:
    parts = line.split()
    if not parts:
        continue
    cid = parts[0] if parts[0].isdigit() else ""
    if cid:
        parts = parts[1:]
    cmd, args = parts[0], parts[1:]
    answer = ""
    if cmd == "name":
        answer = f"faulty-{mode}"
    elif cmd == "boardsize":
        size = int(args[0])
    elif cmd == "clear_board":
        taken = set()
    elif cmd == "play" and mode == "refuse":
        print(f"?{cid} illegal move\n", flush=True)
        continue
    elif cmd == "play":
        taken.add(args[1].upper())
    elif cmd == "known_command":
        answer = "false"
    elif cmd == "genmove":
        genmoves += 1
        if genmoves == 2 and mode == "crash":
            sys.exit(3)
        if genmoves == 2 and mode == "slow":
            time.sleep(30)
        if genmoves == 2 and mode == "garbage":
            answer = "Z0Z0"
        elif genmoves == 2 and mode == "illegal":
            answer = "A1"
        elif script:
            answer = script[(genmoves - 1) % len(script)]
        else:
            answer = next(f"{c}{r}" for r in range(1, size + 1) for c in cols[:size] if f"{c}{r}" not in taken)
            taken.add(answer)
    elif cmd == "quit":
        print(f"={cid}\n", flush=True)
        break
    print(f"={cid} {answer}\n", flush=True)
