// Drive a GTP engine the way Sabaki does, with Sabaki's own client library.
// Usage: node drive.js ENGINE [ARGS...]; prints one JSON object with the transcript.
//
// A 9x9 game with 2 free handicap stones, komi 0.5 and time settings, kept in sync
// by ControllerStateTracker (which pipelines its commands, as Sabaki does); the
// engine makes every move (genmove for both colours, as servers ask), with
// time_left before each; the last two moves are undone through a sync and
// replayed; an lz-analyze and a kata-analyze session are stopped by the next
// command, as Sabaki stops them; a genmove_analyze; then final_score and
// final_status_list.
const {Controller, ControllerStateTracker} = require('@sabaki/gtp')

const [engine, ...args] = process.argv.slice(2)
const controller = new Controller(engine, args)
const tracker = new ControllerStateTracker(controller)
const log = {errors: [], moves: [], analysis: {}, answers: {}}

async function send(name, args = [], subscriber) {
  const res = await controller.sendCommand({name, args}, subscriber)
  if (res.error) log.errors.push(`${name} ${args.join(' ')}: ${res.content}`)
  return res
}

// Run an analysis command; stop it, as Sabaki does, by sending the next command
// once `want` info lines have arrived (or after `seconds`).
async function analyze(name, args, want, seconds) {
  const lines = []
  let stopped = false
  let stopper = null
  const stop = () => {
    if (!stopped) {
      stopped = true
      stopper = send('protocol_version')
    }
  }
  const timer = setTimeout(stop, seconds * 1000)
  const res = await send(name, args, ({line}) => {
    if (line.startsWith('info')) {
      lines.push(line)
      if (lines.length >= want) stop()
    }
  })
  clearTimeout(timer)
  stop()
  const after = await stopper
  return {lines, header: res.content.split('\n')[0], error: !!res.error, next: after.content}
}

async function main() {
  controller.start()
  for (const name of ['protocol_version', 'name', 'version']) {
    log.answers[name] = (await send(name)).content
  }
  log.answers.list_commands = (await send('list_commands')).content.split('\n')
  const history = [{name: 'set_free_handicap', args: ['C3', 'G7']}]
  const state = {boardsize: [9, 9], komi: 0.5, timeSettings: {mainTime: 30, byoyomiTime: 2, byoyomiStones: 1}, history}
  await tracker.sync(state)
  let color = 'W'
  let passes = 0
  let undone = false
  const started = Date.now()
  while (passes < 2 && history.length < 121) {
    await send('time_left', [color, '20', '0'])
    const t0 = Date.now()
    const res = await send('genmove', [color])
    log.genmoveSeconds = [...(log.genmoveSeconds || []), (Date.now() - t0) / 1000]
    const move = res.content.trim().toUpperCase()
    log.moves.push(`${color} ${move}`)
    if (res.error || move === 'RESIGN') break
    history.push({name: 'play', args: [color, move]})
    passes = move === 'PASS' ? passes + 1 : 0
    color = color === 'B' ? 'W' : 'B'
    if (history.length === 9 && !undone) {
      // take back two moves through the state tracker (it sends `undo` twice)
      undone = true
      const undoneMoves = history.splice(-2, 2)
      log.undone = undoneMoves.map(c => c.args.join(' '))
      await tracker.sync({...state, history})
      log.answers.after_undo = (await send('showboard')).content
      color = 'W'
    }
    if (history.length === 15 && !log.analysis.lz) {
      log.analysis.lz = await analyze('lz-analyze', [color, '10'], 3, 20)
      log.analysis.kata = await analyze('kata-analyze', [color, '10', 'ownership', 'true'], 2, 20)
      const lines = []
      const res = await send('lz-genmove_analyze', [color, '10'], ({line}) => lines.push(line))
      log.analysis.genmove = {lines, content: res.content}
      const m = res.content.match(/play (\S+)/)
      const move = m ? m[1].toUpperCase() : 'RESIGN'
      log.moves.push(`${color} ${move}`)
      if (move === 'RESIGN') break
      history.push({name: 'play', args: [color, move]})
      passes = move === 'PASS' ? passes + 1 : 0
      color = color === 'B' ? 'W' : 'B'
    }
  }
  log.seconds = (Date.now() - started) / 1000
  log.answers.showboard = (await send('showboard')).content
  log.answers.final_score = (await send('final_score')).content
  log.answers.dead = (await send('final_status_list', ['dead'])).content
  log.answers.bad = (await controller.sendCommand({name: 'play', args: ['B', 'Z99']})).content
  log.tracked = tracker.state.history.map(c => `${c.name} ${c.args.join(' ')}`)
  await controller.stop()
  console.log(JSON.stringify(log))
}

main().catch(err => {
  console.log(JSON.stringify({...log, fatal: String(err && err.stack || err)}))
  process.exit(1)
})
