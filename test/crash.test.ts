/** Tests: kill -9 during training, then --resume ends bit for bit where an uninterrupted run ends (issue 12). */
import test from 'tape';

export function registerCrashTests(): void {
  test('crash: placeholder', (t) => {
    t.pass('filled in by issue 12');
    t.end();
  });
}
