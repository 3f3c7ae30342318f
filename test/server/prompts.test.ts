import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Responses } from '../../src/shared/api.ts';
import { CONTEXT_TEMPLATES, STYLE_TEMPLATES } from '../../src/main/pipeline/promptSuggestions.ts';
import { serve } from '../../src/main/server/server.ts';
import { endpointKey } from '../../src/main/service/prompts.ts';
import { createEngine } from '../../src/main/service/winnowService.ts';
import { addClass } from '../../src/main/store/classes.ts';
import { initProject, type Project } from '../../src/main/store/project.ts';
import { tempDir } from '../helpers/fixtures.ts';

// Prompt suggestions through the API, over `winnow serve`: the templates on a class's disambiguated
// name, ranked by a registered CLIP model, an OpenAI-compatible endpoint's (a fake one here, given the
// engine's WINNOW_LLM_API_KEY, which goes only to WINNOW_LLM_ENDPOINT's origin), and the templates
// alone, with the reason, when the endpoint fails.
const CLIP = resolve(import.meta.dirname, '../fixtures/models/tiny-clip');
const SD = resolve(import.meta.dirname, '../fixtures/models/tiny-sd');
const TEMPLATES: readonly string[] = [...CONTEXT_TEMPLATES, ...STYLE_TEMPLATES];
let project: Project;
let server: Server;
let base: string;
let token: string;
let bunId: number;
/** The fake endpoint, and what it was asked. */
let llm: Server;
let llmUrl: string;
const asked: { authorization: string | undefined; body: { model: string; messages: { content: string }[] } }[] = [];

async function body(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

beforeAll(async () => {
  // A registry of this file's own, whatever other test files register meanwhile.
  process.env.WINNOW_HOME = join(tempDir(), 'home');
  process.env.WINNOW_LLM_API_KEY = 'test-key';
  project = initProject(join(tempDir(), 'p'));
  bunId = addClass(project.db, { name: 'bun', disambiguation: 'a bread roll' }).id;
  const started = await serve({ engine: createEngine(project), port: 0, host: '127.0.0.1' });
  server = started.server;
  token = started.token;
  base = new URL(started.url).origin;
  llm = createServer(async (request, response) => {
    asked.push({ authorization: request.headers.authorization, body: JSON.parse(await body(request)) });
    if (request.url !== '/v1/chat/completions') {
      response.writeHead(404).end();
      return;
    }
    const prompts = ['A Bun on a plate, morning light', 'a bread roll in a wicker basket'];
    response
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ choices: [{ message: { content: `Here you are: ${JSON.stringify(prompts)}` } }] }));
  });
  await new Promise<void>((done) => llm.listen(0, '127.0.0.1', done));
  llmUrl = `http://127.0.0.1:${(llm.address() as AddressInfo).port}/v1`;
  process.env.WINNOW_LLM_ENDPOINT = llmUrl;
});
afterAll(async () => {
  delete process.env.WINNOW_LLM_API_KEY;
  delete process.env.WINNOW_LLM_ENDPOINT;
  await new Promise((done) => llm.close(done));
  await new Promise((done) => server.close(done));
  project.close();
});

async function call(method: string, request: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${base}/api/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(request),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

async function suggest(request: Record<string, unknown>) {
  const { status, json } = await call('promptSuggestions', { classId: bunId, ...request });
  expect(json).toMatchObject({ ok: true });
  expect(status).toBe(200);
  return json.value as Responses['promptSuggestions'];
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done));
  const { port } = probe.address() as AddressInfo;
  await new Promise((done) => probe.close(done));
  return port;
}

describe('prompt suggestions over the API', () => {
  it('fills the context and style templates with the disambiguated name, in their order, unranked', async () => {
    const { suggestions, endpointError } = await suggest({});
    expect(endpointError).toBeUndefined();
    expect(suggestions.map((s) => s.template)).toEqual(TEMPLATES);
    expect(suggestions[1]).toEqual({
      prompt: 'a photo of a bun (a bread roll) on a table',
      template: 'a photo of a {label} on a table',
      source: 'template',
      aspect: 'context',
    });
    expect(suggestions.every((s) => s.clipSimilarity === undefined)).toBe(true);
  });

  it('says what the generator the prompts are for follows, and which templates are styles', async () => {
    const { suggestions, generator } = await suggest({});
    expect(generator).toMatchObject({ name: 'embedded', followsStyle: false });
    expect(generator.note).toContain('class-conditional');
    expect(suggestions.filter((s) => s.aspect === 'style').map((s) => s.template)).toEqual([...STYLE_TEMPLATES]);
    expect(suggestions.filter((s) => s.aspect === 'context').map((s) => s.template)).toEqual([...CONTEXT_TEMPLATES]);
    const refused = await call('promptSuggestions', { classId: bunId, generator: 'no-such-model' });
    expect(refused.json).toMatchObject({ ok: false, error: expect.stringContaining('no-such-model') });

    // A Stable Diffusion model reads the whole prompt; a CLIP model is no generator.
    expect((await call('modelAdd', { folder: SD, name: 'tiny-sd' })).json.ok).toBe(true);
    expect((await suggest({ generator: 'tiny-sd' })).generator).toMatchObject({ name: 'tiny-sd', followsStyle: true });
    expect((await call('modelAdd', { folder: CLIP, name: 'clip-as-generator' })).json.ok).toBe(true);
    const notGenerator = await call('promptSuggestions', { classId: bunId, generator: 'clip-as-generator' });
    expect(notGenerator.json).toMatchObject({ ok: false, error: expect.stringContaining('not stable-diffusion') });
    for (const name of ['tiny-sd', 'clip-as-generator'])
      expect((await call('modelRemove', { name })).json.ok).toBe(true);
  });

  it("ranks them by a registered CLIP model's similarity to the class's meaning", async () => {
    expect((await call('modelAdd', { folder: CLIP, name: 'tiny-clip' })).json.ok).toBe(true);
    const { suggestions } = await suggest({ clip: 'tiny-clip' });
    const similarities = suggestions.map((s) => s.clipSimilarity!);
    expect(similarities.every((x) => typeof x === 'number' && x >= -1.0001 && x <= 1.0001)).toBe(true);
    expect(similarities).toEqual([...similarities].sort((a, b) => b - a));
    expect(suggestions.map((s) => s.template).sort()).toEqual([...TEMPLATES].sort());
    // The same model again: it was disposed of after the first call and loads afresh.
    expect((await suggest({ clip: 'tiny-clip' })).suggestions).toEqual(suggestions);
  });

  it("adds an endpoint's prompts with the engine's API key; one that names the class becomes a template", async () => {
    asked.length = 0;
    const { suggestions, endpointError } = await suggest({
      endpoint: { url: llmUrl, model: 'local-llm' },
      count: 2,
      clip: 'tiny-clip',
    });
    expect(endpointError).toBeUndefined();
    expect(asked).toHaveLength(1);
    expect(asked[0]!.authorization).toBe('Bearer test-key');
    expect(asked[0]!.body.model).toBe('local-llm');
    expect(asked[0]!.body.messages.at(-1)!.content).toMatch(
      /^Write 2 varied prompts, each showing one "bun" \(meaning: a bread roll\)/,
    );
    // Ranked among the templates by CLIP, in whichever order it puts them.
    const fromEndpoint = suggestions
      .filter((s) => s.source === 'endpoint')
      .sort((a, b) => (a.prompt < b.prompt ? -1 : 1));
    expect(fromEndpoint).toEqual([
      {
        prompt: 'A Bun on a plate, morning light',
        template: 'A {label} on a plate, morning light',
        source: 'endpoint',
        clipSimilarity: expect.any(Number),
      },
      {
        prompt: 'a bread roll in a wicker basket',
        template: null,
        source: 'endpoint',
        clipSimilarity: expect.any(Number),
      },
    ]);
    expect(suggestions).toHaveLength(TEMPLATES.length + 2);
  });

  it("sends the key to $WINNOW_LLM_ENDPOINT's origin only, and says so when an endpoint without it fails", async () => {
    // The same fake server under another origin (host name), then a path the server refuses.
    const elsewhere = llmUrl.replace('127.0.0.1', 'localhost');
    asked.length = 0;
    const answered = await suggest({ endpoint: { url: elsewhere, model: 'x' }, count: 2 });
    expect(answered.endpointError).toBeUndefined();
    expect(answered.suggestions.filter((s) => s.source === 'endpoint')).toHaveLength(2);
    const refused = await suggest({ endpoint: { url: `${elsewhere}/nope`, model: 'x' } });
    expect(refused.endpointError).toBe(
      `${elsewhere}/nope/chat/completions answered 404 Not Found; $WINNOW_LLM_API_KEY was not sent: it goes only to $WINNOW_LLM_ENDPOINT's ${new URL(llmUrl).origin}`,
    );
    expect(asked.map((a) => a.authorization)).toEqual([undefined, undefined]);

    // Another path of the key's own origin gets it.
    asked.length = 0;
    await suggest({ endpoint: { url: `${llmUrl}/nope`, model: 'x' } });
    expect(asked.map((a) => a.authorization)).toEqual(['Bearer test-key']);
  });

  it('withholds the key when no endpoint is named for it, or the name is no http(s) URL', () => {
    const key = { WINNOW_LLM_API_KEY: 'k' };
    expect(endpointKey('https://api.example.com/v1', {})).toEqual({});
    expect(endpointKey('https://api.example.com/v1', key).withheld).toMatch(
      /^\$WINNOW_LLM_API_KEY was not sent: set \$WINNOW_LLM_ENDPOINT to the endpoint the key is for/,
    );
    for (const pinned of ['api.example.com', 'file:///api.example.com'])
      expect(endpointKey('https://api.example.com/v1', { ...key, WINNOW_LLM_ENDPOINT: pinned })).toEqual({
        withheld: `$WINNOW_LLM_API_KEY was not sent: $WINNOW_LLM_ENDPOINT ("${pinned}") is not an http(s) URL`,
      });
    const pinned = { ...key, WINNOW_LLM_ENDPOINT: 'https://api.example.com/v1' };
    expect(endpointKey('https://api.example.com/other/v1', pinned)).toEqual({ apiKey: 'k' });
    for (const other of ['http://api.example.com/v1', 'https://api.example.com:8443/v1', 'https://example.com/v1'])
      expect(endpointKey(other, pinned).apiKey).toBeUndefined();
  });

  it('falls back to the templates, saying why, when the endpoint cannot be reached or answers badly', async () => {
    const unreachable = await suggest({ endpoint: { url: `http://127.0.0.1:${await closedPort()}/v1`, model: 'x' } });
    expect(unreachable.endpointError).toMatch(/^fetch failed/);
    expect(unreachable.suggestions.map((s) => s.template)).toEqual(TEMPLATES);

    const wrongPath = await suggest({ endpoint: { url: `${llmUrl}/nope`, model: 'x' } });
    expect(wrongPath.endpointError).toBe(`${llmUrl}/nope/chat/completions answered 404 Not Found`);
    expect(wrongPath.suggestions.every((s) => s.source === 'template')).toBe(true);
  });

  it('refuses an unknown class or CLIP model with the fix, and bad requests naming the field', async () => {
    const unknown = await call('promptSuggestions', { classId: 999 });
    expect(unknown.status).toBe(400);
    expect(unknown.json).toEqual({
      ok: false,
      error: 'There is no class with id 999.',
      fix: expect.stringMatching(/listClasses/),
    });
    const noModel = await call('promptSuggestions', { classId: bunId, clip: 'nope' });
    expect(noModel.json).toMatchObject({
      ok: false,
      error: 'No model named "nope" is registered.',
      fix: expect.stringMatching(/tiny-clip/),
    });

    const bad = async (request: Record<string, unknown>) => {
      const { status, json } = await call('promptSuggestions', { classId: bunId, ...request });
      expect(status).toBe(400);
      return json.error;
    };
    expect(await bad({ classId: 0 })).toBe('The class id must be more than 0 (got 0).');
    expect(await bad({ clip: 'embedded' })).toMatch(/^The CLIP score model must be a registered CLIP model/);
    expect(await bad({ clip: '../x' })).toMatch(/^The CLIP score model must be a model name/);
    expect(await bad({ endpoint: { url: 'file:///etc/passwd', model: 'x' } })).toBe(
      'The endpoint\'s URL must be an http(s) URL, e.g. http://localhost:8000/v1 (got "file:///etc/passwd").',
    );
    expect(await bad({ endpoint: { url: 'not a url', model: 'x' } })).toMatch(
      /^The endpoint's URL must be an http\(s\) URL/,
    );
    expect(await bad({ endpoint: { url: `http://x/${'a'.repeat(2000)}`, model: 'x' } })).toMatch(
      /^The endpoint's URL must be at most 2000 characters long \(got 2009 characters\)/,
    );
    expect(await bad({ endpoint: { url: llmUrl, model: '' } })).toBe("The endpoint's model must not be empty.");
    expect(await bad({ endpoint: { url: llmUrl, model: 'x', apiKey: 'k' } })).toBe(
      'The prompt endpoint does not take "apiKey": remove it.',
    );
    expect(await bad({ count: 33 })).toBe('The number of prompts to ask for must be at most 32 (got 33).');
    expect(await bad({ count: 1.5 })).toBe('The number of prompts to ask for must be a whole number (got 1.5).');
  });
});
