// ort-run.js: ONNX Runtime's side of the interop tests (test_onnx.py).
//   node ort-run.js MODEL DIR
// reads DIR/feeds.json {"inputs": [{"name", "shape", "type"}], "outputs": [names]},
// DIR/<input>.bin (float32, or int64 for type "int64") for each input, and
// writes DIR/<output>.ort.bin (float32) for each output.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

async function main() {
  const [model, dir] = process.argv.slice(2);
  const feeds = JSON.parse(fs.readFileSync(path.join(dir, 'feeds.json'), 'utf8'));
  const session = await ort.InferenceSession.create(model, {
    graphOptimizationLevel: 'disabled',
    intraOpNumThreads: 1,
  });
  const inputs = {};
  for (const inp of feeds.inputs) {
    const buf = fs.readFileSync(path.join(dir, inp.name + '.bin'));
    const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length);
    const data = inp.type === 'int64' ? new BigInt64Array(ab) : new Float32Array(ab);
    inputs[inp.name] = new ort.Tensor(inp.type === 'int64' ? 'int64' : 'float32', data, inp.shape);
  }
  const results = await session.run(inputs);
  for (const name of feeds.outputs) {
    const t = results[name];
    fs.writeFileSync(path.join(dir, name + '.ort.bin'), Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
}

main().catch((e) => {
  console.error('ort-run: ' + (e && e.message ? e.message : e));
  process.exit(1);
});
