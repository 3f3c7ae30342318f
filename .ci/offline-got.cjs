// Preloaded into @doyensec/electronegativity in CI. At start it fetches updated translations with
// `got`; on an offline machine got's retry timer then throws after the scan ("The `onCancel` handler
// was attached after the promise settled") and kills the process. Failing that one fetch at once
// makes the tool fall back to its bundled en-US strings, as it does for any failed fetch.
const Module = require('node:module');
const load = Module._load;
Module._load = function (request, parent, isMain) {
  if (request === 'got' && parent && /electronegativity[\\/]dist[\\/]locales/.test(parent.filename)) {
    return () => Promise.reject(new Error('offline: translations not fetched'));
  }
  return load.call(this, request, parent, isMain);
};
