// @vitest-environment happy-dom
import { mount } from '@vue/test-utils';
import { describe, expect, it, vi } from 'vitest';
import InstanceTile from '../../src/renderer/src/views/review/InstanceTile.vue';
import { useFlingDetector } from '../../src/renderer/src/views/review/flingDetector.ts';

const instance = {
  id: 7,
  imageHash: 'ab'.repeat(32),
  classId: 1,
  labelId: 1,
  status: 'accepted' as const,
  override: null,
  contribution: -0.12345,
  score: 0.5678,
  tags: [] as string[],
};

describe('InstanceTile', () => {
  it('shows the decision, the score the list is ordered by and the thumbnail from winnow serve', async () => {
    const tile = mount(InstanceTile, { props: { instance, selected: false } });
    expect(tile.classes()).toContain('accepted');
    expect(tile.classes()).not.toContain('curated');
    expect(tile.find('.score').text()).toBe('0.568');
    expect(tile.find('img').attributes('src')).toBe(`/thumbs/84/${'ab'.repeat(32)}.png`);
    await tile.trigger('click');
    expect(tile.emitted('pick')).toHaveLength(1);
  });

  it("marks the curator's override, which wins over the filter's status", () => {
    const tile = mount(InstanceTile, {
      props: { instance: { ...instance, override: 'rejected' as const }, selected: true },
    });
    expect(tile.classes()).toEqual(expect.arrayContaining(['rejected', 'curated', 'selected']));
    expect(tile.attributes('title')).toMatch(/rejected \(curator\)/);
  });

  it('shows a dash for an instance not scored yet', () => {
    const tile = mount(InstanceTile, {
      props: {
        instance: { ...instance, contribution: null, score: null, status: 'pending' as const },
        selected: false,
      },
    });
    expect(tile.find('.score').text()).toBe('—');
    expect(tile.classes()).toContain('pending');
  });
});

describe('fast scrolling', () => {
  it('shows tiles without images while the grid is flung, and the images again once it settles', async () => {
    vi.useFakeTimers();
    const { flinging, onScroll } = useFlingDetector(100);
    const grid = { scrollTop: 0, clientHeight: 600 };
    const scroll = (top: number) => {
      grid.scrollTop = top;
      onScroll({ target: grid } as unknown as Event);
    };
    scroll(300); // half a viewport: an ordinary scroll
    expect(flinging.value).toBe(false);
    scroll(3300); // five viewports at once
    expect(flinging.value).toBe(true);
    scroll(3400);
    vi.advanceTimersByTime(99);
    expect(flinging.value).toBe(true);
    vi.advanceTimersByTime(1);
    expect(flinging.value).toBe(false);
    vi.useRealTimers();

    const tile = mount(InstanceTile, { props: { instance, selected: false, showImage: false } });
    expect(tile.find('img').exists()).toBe(false);
    expect(tile.find('.placeholder').exists()).toBe(true);
    await tile.setProps({ showImage: true });
    expect(tile.find('img').exists()).toBe(true);
  });
});
