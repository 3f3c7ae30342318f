/**
 * For a fetch whose answers can arrive out of order: engine events and quick clicks ask faster than
 * the engine answers, and an older answer arriving last would put back what a newer one replaced (a
 * finished round shown unfinished, another class's images under this one's name). Call the returned
 * function as the fetch is sent; the check it gives is true while no newer fetch was sent.
 */
export function newestAnswer(): () => () => boolean {
  let asks = 0;
  return () => {
    const ask = ++asks;
    return () => ask === asks;
  };
}
