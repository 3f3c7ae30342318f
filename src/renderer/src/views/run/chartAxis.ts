/**
 * The bounds of an accuracy axis: the values' own range with a point (0.01) of room either side,
 * on whole points and within 0–100%, so a change of one point shows as a visible step (on a fixed
 * 0–100% axis it would be a pixel or two). For echarts' `min` and `max` callbacks.
 */
export const accuracyAxisMin = ({ min }: { min: number }): number => Math.max(0, Math.floor(100 * min - 1) / 100);
export const accuracyAxisMax = ({ max }: { max: number }): number => Math.min(1, Math.ceil(100 * max + 1) / 100);
