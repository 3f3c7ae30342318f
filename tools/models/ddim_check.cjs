// Independent JavaScript implementation of the documented DDIM sampler
// (onnxruntime-node), checked against the Python reference in expected.json.
// Doubles as a reference for the TypeScript runtime.
// usage: NODE_PATH=/tmp/ortcheck/node_modules node ddim_check.cjs test/fixtures/tiny-ddpm
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

function alphaBar(card) {
  // recompute from the documented parameters (float64) and compare with the stored values
  const s = card.noise_schedule;
  const ab = [];
  let p = 1;
  for (let i = 0; i < s.T; i++) {
    const beta = s.beta_start + ((s.beta_end - s.beta_start) * i) / (s.T - 1);
    p *= 1 - beta;
    ab.push(p);
  }
  const maxDiff = Math.max(...ab.map((v, i) => Math.abs(v - s.alpha_bar_values[i])));
  if (maxDiff > 1e-8) throw new Error('alpha_bar mismatch ' + maxDiff);
  return ab;
}

function timesteps(S, T) {
  const ts = [];
  for (let i = 0; i < S; i++) ts.push(T - 1 - Math.floor((i * T) / S));
  return ts;
}

async function ddim(sess, ab, T, xT, conds, nullEmb, S, g) {
  const B = conds.length,
    D = nullEmb.length,
    P = 28 * 28;
  const x = Float32Array.from(xT);
  const ts = timesteps(S, T);
  const condBuf = new Float32Array(2 * B * D);
  for (let b = 0; b < B; b++) {
    condBuf.set(nullEmb, b * D);
    condBuf.set(conds[b], (B + b) * D);
  }
  for (let i = 0; i < ts.length; i++) {
    const a = ab[ts[i]],
      aPrev = i + 1 < ts.length ? ab[ts[i + 1]] : 1.0;
    const xx = new Float32Array(2 * B * P);
    xx.set(x, 0);
    xx.set(x, B * P);
    const out = await sess.run({
      x: new ort.Tensor('float32', xx, [2 * B, 1, 28, 28]),
      t: new ort.Tensor('float32', new Float32Array(2 * B).fill(ts[i]), [2 * B]),
      cond: new ort.Tensor('float32', condBuf, [2 * B, D]),
    });
    const e = out.eps.data;
    for (let j = 0; j < B * P; j++) {
      const eps = e[j] + g * (e[B * P + j] - e[j]); // eps_null + g (eps_cond - eps_null)
      let x0 = (x[j] - Math.sqrt(1 - a) * eps) / Math.sqrt(a);
      x0 = Math.min(1, Math.max(-1, x0));
      const eps2 = (x[j] - Math.sqrt(a) * x0) / Math.sqrt(1 - a);
      x[j] = Math.sqrt(aPrev) * x0 + Math.sqrt(1 - aPrev) * eps2;
    }
  }
  return x.map((v) => Math.min(1, Math.max(-1, v)));
}

(async () => {
  const dir = process.argv[2];
  const card = JSON.parse(fs.readFileSync(path.join(dir, 'model_card.json'), 'utf8'));
  const cj = JSON.parse(fs.readFileSync(path.join(dir, 'conditioning.json'), 'utf8'));
  const exp = JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8'));
  const ab = alphaBar(card);
  const sess = await ort.InferenceSession.create(path.join(dir, 'denoiser.onnx'));
  const d = exp.ddim;
  const ts = timesteps(d.steps, card.noise_schedule.T);
  if (JSON.stringify(ts) !== JSON.stringify(d.timesteps)) throw new Error('timesteps differ');
  const xT = new Float32Array(2 * 784).map((_, j) => 1.5 * Math.sin(0.37 * j + 1.0));
  const mix = cj.embeddings[1].map((v, k) => 0.5 * (v + cj.embeddings[7][k]));
  const got = await ddim(
    sess,
    ab,
    card.noise_schedule.T,
    xT,
    [cj.embeddings[3], mix],
    cj.null_embedding,
    d.steps,
    d.guidance_scale,
  );
  let maxAbs = 0;
  for (let j = 0; j < got.length; j++) maxAbs = Math.max(maxAbs, Math.abs(got[j] - d.output[j]));
  console.log(`DDIM ${d.steps} steps g=${d.guidance_scale}: max |js - python| = ${maxAbs.toExponential(2)}`);
  process.exit(maxAbs < d.tolerance ? 0 : 1);
})();
