// Ingests batches into a new store until killed: node rvf_ingest_loop.js PATH DIM BATCH
// Batch k holds ids k*BATCH+1 .. (k+1)*BATCH (vectors by the corpus rule); after ingestBatch returns
// it prints "committed k" (the batch is acknowledged: its manifest is written and fsynced).
'use strict';
const path = require('path');
const { RvfDatabase } = require(path.join(process.env.RVF_NODE_DIR, '@ruvector/rvf-node'));

const [file, dimArg, batchArg] = process.argv.slice(2);
const dim = Number(dimArg);
const batch = Number(batchArg);
const db = RvfDatabase.create(file, { dimension: dim, metric: 'l2', profile: 0 });
for (let k = 0; ; k++) {
  const ids = Array.from({ length: batch }, (_, i) => k * batch + i + 1);
  const data = new Float32Array(batch * dim);
  ids.forEach((id, i) => { for (let j = 0; j < dim; j++) data[i * dim + j] = id + j * 0.125; });
  db.ingestBatch(data, ids);
  process.stdout.write(`committed ${k}\n`);
}
