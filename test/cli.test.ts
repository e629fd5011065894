/** Tests: the CLI: one-line errors, early checks, the output lock, resume checks (issue 12). */
import test from 'tape';

export function registerCliTests(): void {
  test('cli: placeholder', (t) => {
    t.pass('filled in by issue 12');
    t.end();
  });
}
