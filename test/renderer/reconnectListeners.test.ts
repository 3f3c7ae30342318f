// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { connection, onReconnect, reportAnswer } from '../../src/renderer/src/connection.ts';

describe('when the server is reachable again', () => {
  it('runs every listener, also the one after a listener that removes itself', () => {
    const ran: string[] = [];
    const stopOnce = onReconnect(() => {
      ran.push('once');
      stopOnce(); // an import's listener does this: it follows one import only
    });
    const stopScreen = onReconnect(() => ran.push('screen'));
    connection.state = 'unreachable';
    reportAnswer(200);
    expect(ran).toEqual(['once', 'screen']);
    stopScreen();
  });
});
