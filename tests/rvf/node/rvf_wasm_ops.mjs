// Runs a list of @ruvector/rvf-wasm operations (JSON on argv[2], else on stdin) on its C-ABI exports and prints
// what the module reports, as JSON.  Vectors follow the corpus rule v[id][j] = id + j*0.125 unless
// given explicitly.  usage: node rvf_wasm_ops.mjs '<json ops>'   (package dir in RVF_NODE_DIR)
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const pkg = path.join(process.env.RVF_NODE_DIR, '@ruvector/rvf-wasm/pkg/rvf_wasm.mjs');
const init = (await import(pathToFileURL(pkg).href)).default;
const w = await init();

const ops = JSON.parse(process.argv[2] ?? fs.readFileSync(0, 'utf8'));
const out = [];
const rule = (dim) => (id) => Array.from({ length: dim }, (_, j) => id + j * 0.125);
let h = 0;

function withBytes(bytes, fn) {
  const ptr = w.rvf_alloc(Math.max(bytes.length, 1));
  new Uint8Array(w.memory.buffer, ptr, bytes.length).set(bytes);
  try { return fn(ptr, bytes.length); } finally { w.rvf_free(ptr, Math.max(bytes.length, 1)); }
}

function status() {
  const p = w.rvf_alloc(20);
  w.rvf_store_status(h, p);
  const v = new Uint32Array(w.memory.buffer.slice(p, p + 20));
  w.rvf_free(p, 20);
  return { count: v[0], dimension: v[1], metric: v[2], totalEntries: v[3], deleted: v[4] };
}

function ingest(ids, data) {
  const vp = w.rvf_alloc(data.length * 4);
  const ip = w.rvf_alloc(ids.length * 8);
  new Float32Array(w.memory.buffer, vp, data.length).set(data);
  new BigUint64Array(w.memory.buffer, ip, ids.length).set(ids.map(BigInt));
  const r = w.rvf_store_ingest(h, vp, ip, ids.length);
  w.rvf_free(vp, data.length * 4);
  w.rvf_free(ip, ids.length * 8);
  return r;
}

function query(vector, k) {
  const qp = w.rvf_alloc(vector.length * 4);
  const op = w.rvf_alloc(k * 12);
  new Float32Array(w.memory.buffer, qp, vector.length).set(vector);
  const n = w.rvf_store_query(h, qp, k, -1, op);
  const view = new DataView(w.memory.buffer, op, k * 12);
  const hits = [];
  for (let i = 0; i < n; i++) {
    hits.push({ id: Number(view.getBigUint64(i * 12, true)), distance: view.getFloat32(i * 12 + 8, true) });
  }
  w.rvf_free(qp, vector.length * 4);
  w.rvf_free(op, k * 12);
  return hits;
}

function segments(bytes) {
  return withBytes(bytes, (ptr, len) => {
    const n = w.rvf_segment_count(ptr, len);
    const info = w.rvf_alloc(28);
    const list = [];
    for (let i = 0; i < n; i++) {
      w.rvf_segment_info(ptr, len, i, info);
      const v = new DataView(w.memory.buffer, info, 28);
      list.push({ id: Number(v.getBigUint64(0, true)), segType: v.getUint8(8),
        payloadLength: Number(v.getBigUint64(12, true)), offset: Number(v.getBigUint64(20, true)) });
    }
    w.rvf_free(info, 28);
    return list;
  });
}

for (const op of ops) {
  let r;
  switch (op.op) {
    case 'create': h = w.rvf_store_create(op.dim, op.metric || 0); r = h; break;
    case 'ingest': {
      const dim = w.rvf_store_dimension(h);
      r = ingest(op.ids, op.vectors ? op.vectors.flat() : op.ids.flatMap(rule(dim)));
      break;
    }
    case 'delete': {
      const ip = w.rvf_alloc(op.ids.length * 8);
      new BigUint64Array(w.memory.buffer, ip, op.ids.length).set(op.ids.map(BigInt));
      r = w.rvf_store_delete(h, ip, op.ids.length);
      w.rvf_free(ip, op.ids.length * 8);
      break;
    }
    case 'export': {
      const need = -w.rvf_store_export(h, 0, 0);
      const p = w.rvf_alloc(need);
      const n = w.rvf_store_export(h, p, need);
      fs.writeFileSync(op.path, new Uint8Array(w.memory.buffer, p, n));
      w.rvf_free(p, need);
      r = n;
      break;
    }
    case 'open': {
      const bytes = fs.readFileSync(op.path);
      h = withBytes(bytes, (ptr, len) => w.rvf_store_open(ptr, len));
      r = { handle: h, status: status(), segments: segments(bytes) };
      break;
    }
    case 'status': r = status(); break;
    case 'query': r = op.vectors.map((v) => query(v, op.k)); break;
    case 'close': r = w.rvf_store_close(h); h = 0; break;
    default: throw new Error('unknown op ' + op.op);
  }
  out.push({ op: op.op, result: r });
}
process.stdout.write(JSON.stringify(out));
