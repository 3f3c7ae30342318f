import { ref, type Ref } from 'vue';

/**
 * Whether a scroll container is being flung: moving more than a viewport between two scroll events.
 * While it is, the grid shows its tiles without images: decoding a fresh screenful of thumbnails
 * every frame is what made cached scrolling miss frames (bench/review-speed.ts), and nobody can
 * look at images passing by that fast. Images come back `settleMs` after the flinging stops.
 */
export function useFlingDetector(settleMs = 120): { flinging: Ref<boolean>; onScroll: (event: Event) => void } {
  const flinging = ref(false);
  let lastTop = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  function onScroll(event: Event) {
    const element = event.target as HTMLElement;
    const moved = Math.abs(element.scrollTop - lastTop);
    lastTop = element.scrollTop;
    if (moved > element.clientHeight) flinging.value = true;
    if (!flinging.value) return;
    clearTimeout(timer);
    timer = setTimeout(() => (flinging.value = false), settleMs);
  }
  return { flinging, onScroll };
}
