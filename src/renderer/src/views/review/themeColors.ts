import { onBeforeUnmount, ref, type Ref } from 'vue';

export interface ThemeColors {
  readonly text: string;
  readonly muted: string;
  readonly line: string;
}

/**
 * The page's text, muted and line colours (style.css's custom properties), following a switch
 * between light and dark: a canvas chart cannot inherit them from CSS, and echarts' own defaults
 * are dark grey, unreadable on the dark background. Empty strings where none are defined.
 */
export function useThemeColors(): Ref<ThemeColors> {
  const read = (): ThemeColors => {
    const style = getComputedStyle(document.documentElement);
    const value = (name: string) => style.getPropertyValue(name).trim();
    return { text: value('--text'), muted: value('--muted'), line: value('--line') };
  };
  const colors = ref(read());
  const media = window.matchMedia?.('(prefers-color-scheme: dark)');
  const update = () => (colors.value = read());
  media?.addEventListener('change', update);
  onBeforeUnmount(() => media?.removeEventListener('change', update));
  return colors;
}
