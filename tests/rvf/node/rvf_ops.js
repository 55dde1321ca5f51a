// Runs a list of rvf-node operations (JSON on argv[2], else on stdin) and prints what the binding reports, as JSON.
// Vectors follow the corpus rule v[id][j] = id + j*0.125 unless given explicitly.
// usage: node rvf_ops.js '<json ops>'   (package dir in RVF_NODE_DIR)
'use strict';
const path = require('path');
const { RvfDatabase } = require(path.join(process.env.RVF_NODE_DIR, '@ruvector/rvf-node'));

const ops = JSON.parse(process.argv[2] ?? require('fs').readFileSync(0, 'utf8'));
const dbs = {};
const out = [];
const rule = (dim) => (id) => Array.from({ length: dim }, (_, j) => id + j * 0.125);

function report(db) {
  return {
    fileId: db.fileId(), parentId: db.parentId(), lineageDepth: db.lineageDepth(),
    dimension: db.dimension(), metric: db.metric(), status: db.status(), segments: db.segments(),
  };
}

for (const op of ops) {
  const name = op.db || 'main';
  let db = dbs[name];
  let r;
  switch (op.op) {
    case 'create':
      db = dbs[name] = RvfDatabase.create(op.path, { dimension: op.dim, metric: op.metric || 'l2', profile: op.profile || 0 });
      r = report(db); break;
    case 'open': db = dbs[name] = RvfDatabase.open(op.path); r = report(db); break;
    case 'openReadonly': db = dbs[name] = RvfDatabase.openReadonly(op.path); r = report(db); break;
    case 'ingest': {
      const dim = db.dimension();
      const data = op.vectors ? op.vectors.flat() : op.ids.flatMap(rule(dim));
      r = db.ingestBatch(Float32Array.from(data), op.ids); break;
    }
    case 'delete': r = db.delete(op.ids); break;
    case 'compact': r = db.compact(); break;
    case 'derive': db = dbs[op.child] = db.derive(op.path); r = report(db); break;
    case 'branch': db = dbs[op.child] = db.branch(op.path); r = report(db); break;
    case 'freeze': r = db.freeze(); break;
    case 'indexStats': r = db.indexStats(); break;
    case 'report': r = report(db); break;
    case 'query': {
      const options = op.efSearch ? { efSearch: op.efSearch } : undefined;
      r = op.vectors.map((v) => db.query(Float32Array.from(v), op.k, options));
      break;
    }
    case 'close': db.close(); delete dbs[name]; r = null; break;
    default: throw new Error('unknown op ' + op.op);
  }
  out.push({ op: op.op, db: name, result: r });
}
for (const db of Object.values(dbs)) db.close();
process.stdout.write(JSON.stringify(out));
