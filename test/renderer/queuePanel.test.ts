// @vitest-environment happy-dom
import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { describe, expect, it } from 'vitest';
import type { QueueStatus } from '../../src/shared/api.ts';
import QueuePanel from '../../src/renderer/src/views/run/QueuePanel.vue';
import QueueChoiceForm from '../../src/renderer/src/views/run/QueueChoiceForm.vue';
import { useRunStore } from '../../src/renderer/src/stores/runs.ts';
import { stubServedEngine } from './servedEngine.ts';

const status: QueueStatus = {
  url: 'redis://:***@10.0.0.5:6379',
  depth: { waiting: 12, active: 2, delayed: 1, failed: 0 },
  workers: [
    {
      id: 'gpu1-4242',
      alive: true,
      provider: 'cuda',
      adapter: 'NVIDIA H100',
      jobs: 40,
      images: 2560,
      jobsPerSecond: 0.5,
    },
    { id: 'gpu2-77', alive: false, provider: 'cpu', adapter: '', jobs: 3, images: 192, jobsPerSecond: 0 },
  ],
};

describe('the Run screen’s queue panel', () => {
  it('shows the queue’s depth and each worker: alive, where it runs, jobs per second', () => {
    const panel = mount(QueuePanel, { props: { status } });
    expect(panel.text()).toContain('Queue redis://:***@10.0.0.5:6379 · 12 waiting · 2 being made · 1 to retry');
    expect(panel.text()).not.toContain('failed');
    const rows = panel.findAll('tbody tr').map((row) => row.findAll('td').map((td) => td.text()));
    expect(rows).toEqual([
      ['gpu1-4242', 'yes', 'cuda (NVIDIA H100)', '0.50', '40', '2560'],
      ['gpu2-77', 'gone', 'cpu', '0.00', '3', '192'],
    ]);
    expect(panel.findAll('tbody tr')[1]!.classes()).toContain('gone');
  });

  it('says how to add a worker when none has joined, and counts failed jobs', () => {
    const panel = mount(QueuePanel, {
      props: { status: { ...status, workers: [], depth: { ...status.depth, failed: 2 } } },
    });
    expect(panel.text()).toContain('· 2 failed');
    expect(panel.text()).toContain('No worker has joined: start one with winnow worker --queue URL');
  });
});

describe('the Run screen’s choice of where runs generate', () => {
  it('offers a Redis URL when runs generate in the engine, and sends the trimmed URL', async () => {
    const form = mount(QueueChoiceForm, { props: { setting: { url: null, source: null } } });
    expect(form.find('summary').text()).toBe('Generate on other machines (a Redis queue)');
    const button = form.find('button[type="submit"]');
    expect(button.attributes('disabled')).toBeDefined();
    await form.find('input[aria-label="Redis URL"]').setValue('  redis://10.0.0.5:6379 ');
    await form.find('form').trigger('submit');
    expect(form.emitted('choose')).toEqual([['redis://10.0.0.5:6379']]);
  });

  it('names the queue in use and goes back to the engine; a --queue of the server cannot be changed', async () => {
    const chosen = mount(QueueChoiceForm, { props: { setting: { url: 'redis://:***@q:6379', source: 'setting' } } });
    expect(chosen.text()).toContain('Runs started from now on generate through the queue redis://:***@q:6379');
    await chosen.find('button').trigger('click');
    expect(chosen.emitted('choose')).toEqual([[null]]);
    const fixed = mount(QueueChoiceForm, { props: { setting: { url: 'redis://q:6379', source: 'flag' } } });
    expect(fixed.text()).toContain('(set by winnow serve --queue)');
    expect(fixed.find('button').exists()).toBe(false);
  });

  it('the store keeps what the engine answers, and says where the next runs generate', async () => {
    setActivePinia(createPinia());
    const server = stubServedEngine({
      queueSetting: () => ({ url: null, source: null }),
      queueChoose: () => ({ url: 'redis://:***@q:6379', source: 'setting' }),
    });
    const runs = useRunStore();
    await runs.loadQueueSetting();
    expect(runs.queueSetting).toEqual({ url: null, source: null });
    await runs.chooseQueue('redis://:secret@q:6379');
    expect(server.calls).toEqual(['queueSetting', 'queueChoose']);
    expect(runs.queueSetting).toEqual({ url: 'redis://:***@q:6379', source: 'setting' });
    expect(runs.message).toBe('Runs will generate through redis://:***@q:6379.');
    expect(runs.error).toBeNull();
  });
});
