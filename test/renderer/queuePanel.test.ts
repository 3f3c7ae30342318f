// @vitest-environment happy-dom
import { mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import type { QueueStatus } from '../../src/shared/api.ts';
import QueuePanel from '../../src/renderer/src/views/run/QueuePanel.vue';

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
