// rvf-node's writer lock seen from another process.
//   node rvf_lock.js try PATH    -> prints {"ok": true} if RvfDatabase.open(PATH) succeeds (then closes), else {"ok": false, "error": ...}
//   node rvf_lock.js hold PATH   -> opens PATH for writing, prints {"pid": ..., "ready": true}; a line "exit" on stdin
//                                   ends the process without close() (the lock stays, as after a crash); end of stdin closes
'use strict';
const path = require('path');
const { RvfDatabase } = require(path.join(process.env.RVF_NODE_DIR, '@ruvector/rvf-node'));

const [mode, file] = process.argv.slice(2);
if (mode === 'try') {
  try {
    const db = RvfDatabase.open(file);
    db.close();
    process.stdout.write(JSON.stringify({ ok: true }) + '\n');
  } catch (e) {
    process.stdout.write(JSON.stringify({ ok: false, error: String((e && e.message) || e) }) + '\n');
  }
} else if (mode === 'hold') {
  const db = RvfDatabase.open(file);
  process.stdout.write(JSON.stringify({ pid: process.pid, ready: true }) + '\n');
  process.stdin.on('data', (d) => { if (String(d).includes('exit')) process.exit(0); });
  process.stdin.on('end', () => { db.close(); process.exit(0); });
  process.stdin.resume();
} else {
  throw new Error('unknown mode ' + mode);
}
