// Runs an ONNX model with onnxruntime-node on test vectors written by
// verify_onnx.py and compares with the torch outputs.
// usage: NODE_PATH=<dir>/node_modules node ort_check.cjs spec.json
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

function readF32(file) {
  const b = fs.readFileSync(file);
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
}

(async () => {
  const spec = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const dir = path.dirname(process.argv[2]);
  let ok = true;
  for (const c of spec.checks) {
    const sess = await ort.InferenceSession.create(c.model);
    const feeds = {};
    for (const [name, inp] of Object.entries(c.inputs)) {
      feeds[name] = new ort.Tensor('float32', readF32(path.join(dir, inp.file)), inp.dims);
    }
    const out = await sess.run(feeds);
    for (const [name, o] of Object.entries(c.outputs)) {
      const got = out[name];
      const want = readF32(path.join(dir, o.file));
      let maxAbs = 0;
      for (let i = 0; i < want.length; i++) maxAbs = Math.max(maxAbs, Math.abs(got.data[i] - want[i]));
      const pass =
        got.data.length === want.length && JSON.stringify(got.dims) === JSON.stringify(o.dims) && maxAbs < c.tol;
      ok = ok && pass;
      console.log(
        `${pass ? 'OK  ' : 'FAIL'} ${c.model} in=${JSON.stringify(sess.inputNames)} out=${name} dims=${JSON.stringify(got.dims)} max|diff|=${maxAbs.toExponential(2)}`,
      );
    }
  }
  process.exit(ok ? 0 : 1);
})();
