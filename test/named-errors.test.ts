/** Tests: every layer's wrong uses give a named error class (issue 12). */
import test from 'tape';

export function registerNamedErrorTests(): void {
  test('named-errors: placeholder', (t) => {
    t.pass('filled in by issue 12');
    t.end();
  });
}
