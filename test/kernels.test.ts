/** The kernel checks (test/kernel-checks.ts) as tape tests, on every Node mode that runs here. */
import test from 'tape';
import type { Mode } from '../lib/backend.js';
import { defineKernelTests } from './kernel-checks.js';

export function registerKernelTests(modes: Mode[]): void {
  defineKernelTests(modes, test);
}
