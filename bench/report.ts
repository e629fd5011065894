/**
 * The results of bench/run.ts: the JSON's types, the figures derived from the timings
 * (GFLOP/s, fractions of the machine's peak, the ratios to tfjs and to PyTorch), and the
 * markdown table with the targets of issues 5 and 16.
 */
import type { Timing } from './harness.js';

/** Reference figures the rows are compared with, and where each comes from. */
export const REFERENCES = {
  fp32Peak: {
    gflops: 233,
    source: '../shared/peers/results/peak-fma.txt (C FMA loop, 2 threads: AVX2 ymm median 233.0 GFLOP/s, AVX-512 zmm median 229.3, max 233.8; 3.65 GHz)',
  },
  wasmCeiling: {
    gflops: 116,
    source: '../shared/WASM.md (f32x4.relaxed_madd, 12 accumulators, 2 threads: 116.4 GFLOP/s; mul + add: 95.1)',
  },
  mulAddCeiling: { gflops: 95.1, source: '../shared/WASM.md (f32x4 mul + add, 12 accumulators, 2 threads)' },
  torchTrainImagesPerSecond: {
    value: 197,
    source: '../shared/PEERS.md: PyTorch 1.13.1 (Debian python3-torch, oneDNN AVX-512), 2 threads, CIFAR VGG-11 train step at batch 64 (109 with 1 thread)',
  },
  torchVggForwardMs: {
    A: 131,
    D: 222,
    source: '../shared/PEERS.md: PyTorch 1.13.1, 2 threads, forward at 224, batch 1 (tfjs-wasm there: 267 and 519 ms with 2 threads, 512 and 1013 with 1)',
  },
  cifarVgg11Params: 9750922,
  vggParams: { A: 132863336, D: 138357544 },
  targets: {
    conv3x3ForwardGflops: 90,
    convBackwardGflops: 70,
    vgg16ForwardSeconds: 0.35,
    trainImagesPerSecond: 100,
    trainImagesPerSecondStretch: 150,
  },
};

/** what a row measures: shared by the workload list (bench/run.ts) and the results */
export interface RowMeta {
  id: string;
  label: string;
  group: string;
  pass: string;
  batch: number;
  /** direct-algorithm FLOPs of one call (null: memory-bound) */
  flops: number | null;
  /** compulsory bytes of one call, for memory-bound rows */
  bytes: number | null;
}

export interface Row extends RowMeta {
  /** verydeep, relaxed-SIMD build, 2 threads */
  ours: Timing | null;
  oursError?: string;
  /** verydeep, mul + add build (convolution forward rows) */
  oursMulAdd: Timing | null;
  peer: Timing | null;
  /** measured; none: tfjs has no such kernel; skipped: --no-peer; error: it threw */
  peerStatus: 'measured' | 'none' | 'skipped' | 'error';
  peerNote?: string;
  /** max |verydeep − tfjs| / max |verydeep| on the same inputs */
  agreement: number | null;
  /** PyTorch (bench/torch-peer.py), timed alternately with ours: then `ours` comes from the same rounds */
  torch: Timing | null;
  /** measured; none: no torch workload for the row; not installed: torch could not start; error: it threw */
  torchStatus: 'measured' | 'none' | 'skipped' | 'not installed' | 'error';
  torchNote?: string;
  /** max |verydeep − torch| / max |verydeep| at 4,096 evenly spaced positions of the first result */
  torchAgreement: number | null;
  /** torch ms / our ms of each alternating round */
  torchRoundRatios?: number[];
  /** CPU s torch used outside its own timed runs (its threads spinning while ours ran) */
  torchIdleCpuS?: number;
  /** CPU s this process used while torch's runs were in flight */
  oursCpuDuringTorchS?: number;
  torchSetupMs?: number;
  notes: string[];
  params?: number;
  imagesPerSecond?: number;
  derived?: Derived;
}

export interface Derived {
  gflops: number | null;
  gbps: number | null;
  fractionOfPeak: number | null;
  fractionOfWasmCeiling: number | null;
  mulAddGflops: number | null;
  /** mul + add time / relaxed time */
  relaxedSpeedup: number | null;
  peerGflops: number | null;
  peerGbps: number | null;
  /** tfjs median / verydeep median: > 1 when verydeep is faster */
  ratio: number | null;
  torchGflops: number | null;
  /** PyTorch median / verydeep median ("× PyTorch speed"): > 1 when verydeep is faster */
  torchRatio: number | null;
  /** the median of the rounds' torch ms / our ms */
  torchPairedRatio: number | null;
  /** other processes used > 0.3 cores while one of the row's measurements ran */
  loaded: boolean;
}

export interface Report {
  meta: {
    date: string;
    command: string;
    quick: boolean;
    only: string[] | null;
    totalSeconds: number;
    machine: {
      cpu: string; cores: number; memoryGiB: number; platform: string; node: string; v8: string;
      loadavgStart: number[]; loadavgEnd: number[]; otherProcessesCores: number | null;
    };
    git: { commit: string | null; dirty: boolean };
    verydeep: Record<string, unknown>;
    peer: Record<string, unknown>;
    torch?: Record<string, unknown>;
    timing: Record<string, unknown>;
    references: typeof REFERENCES;
  };
  rows: Row[];
}

const per = (work: number | null, t: Timing | null) => (work && t ? work / t.medianMs / 1e6 : null);

export function derive(row: Row, refs: typeof REFERENCES): Derived {
  const gflops = per(row.flops, row.ours);
  const loaded = [row.ours, row.oursMulAdd, row.peer, row.torch].some((t) => t && t.foreignCores !== null && t.foreignCores > 0.3);
  return {
    gflops,
    gbps: per(row.bytes, row.ours),
    fractionOfPeak: gflops === null ? null : gflops / refs.fp32Peak.gflops,
    fractionOfWasmCeiling: gflops === null ? null : gflops / refs.wasmCeiling.gflops,
    mulAddGflops: per(row.flops, row.oursMulAdd),
    relaxedSpeedup: row.ours && row.oursMulAdd ? row.oursMulAdd.medianMs / row.ours.medianMs : null,
    peerGflops: per(row.flops, row.peer),
    peerGbps: per(row.bytes, row.peer),
    ratio: row.ours && row.peer ? row.peer.medianMs / row.ours.medianMs : null,
    torchGflops: per(row.flops, row.torch),
    torchRatio: row.ours && row.torch ? row.torch.medianMs / row.ours.medianMs : null,
    torchPairedRatio: row.torchRoundRatios?.length ? medianOf(row.torchRoundRatios) : null,
    loaded,
  };
}

function medianOf(a: number[]): number {
  const s = [...a].sort((x, y) => x - y), m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** 3 significant digits, no exponent below 10^5 */
function sig(x: number): string {
  if (x >= 1000) return Math.round(x).toLocaleString('en-US');
  return x.toPrecision(3);
}

/** a row timed while the host ran under this share of its fastest speed in the run gets ‡ */
const SLOW_HOST = 0.85;
/** the host's speed while `t` was timed: the run's fastest probe over this row's (1 = as fast as it got) */
const hostSpeed = (t: Timing, fastest: number) => (t.hostProbeMs ? fastest / t.hostProbeMs : 1);
const msCell = (t: Timing | null, fastest = 0) => (t
  ? `${sig(t.medianMs)} [${sig(t.minMs)}–${sig(t.maxMs)}]${t.foreignCores !== null && t.foreignCores > 0.3 ? ' †' : ''}${fastest && hostSpeed(t, fastest) < SLOW_HOST ? ' ‡' : ''}`
  : '—');
const pct = (f: number | null) => (f === null ? '—' : `${(100 * f).toFixed(0)}%`);
const fmtRate = (x: number) => (x >= 10 ? x.toFixed(1) : x.toPrecision(2));
const rateCell = (g: number | null, b: number | null) => (g !== null ? fmtRate(g) : b !== null ? `${fmtRate(b)} GB/s` : '—');

export function markdownReport(report: Report): string {
  const { meta, rows } = report;
  const refs = meta.references;
  for (const r of rows) r.derived = derive(r, refs);
  const m = meta.machine;
  const peer = meta.peer as Record<string, unknown>;
  const peerLine = 'skipped' in peer
    ? `tfjs-wasm: not run (${String(peer.skipped)}).`
    : `Peer: @tensorflow/tfjs-backend-wasm ${String(peer.version)} (tfjs-core ${String(peer.core)}), NHWC, SIMD ${String(peer.simd)}, ` +
      `${String(peer.threads)} thread(s)${peer.shim ? ' — its threaded build through the shim of bench/tfjs-peer.ts (not an official tfjs configuration; officially Node gets 1 thread)' : ' (the official Node configuration)'}.`;
  const fp = meta.verydeep.fastPath as { simd: string; threads: number } | null;
  const timings = rows.flatMap((r) => [r.ours, r.oursMulAdd, r.peer, r.torch]).filter((t): t is Timing => !!t && !!t.hostProbeMs);
  const fastest = timings.length ? Math.min(...timings.map((t) => t.hostProbeMs)) : 0;
  const speeds = timings.map((t) => hostSpeed(t, fastest)).sort((a, b) => a - b);
  const lines: string[] = [];
  const tm = meta.torch ?? { skipped: 'not recorded' };
  const torchLine = 'skipped' in tm ? `PyTorch: ${String(tm.skipped)}.` : `PyTorch peer: ${String(tm.description)}, timed alternately with verydeep (one sample each, the order swapped every round).`;
  lines.push(`### verydeep vs tfjs-wasm and PyTorch, ${meta.date.slice(0, 10)}${meta.quick ? ' (--quick smoke run: not for quoting)' : ''}`);
  lines.push('');
  lines.push(`Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.platform}, Node ${m.node} (V8 ${m.v8}). ` +
    `Other processes used ${m.otherProcessesCores === null ? '?' : m.otherProcessesCores.toFixed(2)} cores on average during the run (load average ${m.loadavgStart.map((x) => x.toFixed(2)).join(' ')} at the start).`);
  if (speeds.length) {
    lines.push(`Host speed (a fixed single-threaded probe before and after each timing, against the run's fastest, ${fastest.toFixed(2)} ms): ` +
      `median ${(100 * speeds[speeds.length >> 1]).toFixed(0)}%, lowest ${(100 * speeds[0]).toFixed(0)}%; ${speeds.filter((x) => x < SLOW_HOST).length} of ${speeds.length} timings under ${(100 * SLOW_HOST).toFixed(0)}% (‡). ` +
      `Other guests on the VM's host slow both sides without showing in any counter here.`);
  }
  lines.push(`verydeep ${meta.git.commit ?? ''}${meta.git.dirty ? ' (uncommitted changes)' : ''}: the 'wasm' mode, ${fp?.simd ?? '?'} build, ${fp?.threads ?? '?'} threads. ${peerLine} ${torchLine}`);
  lines.push(`Command: \`${meta.command}\` (${meta.totalSeconds.toFixed(0)} s).`);
  lines.push('');
  lines.push(`ms: median [min–max] of the timed samples (benchmark.js, after warm-up; each output freed and its memory reused for the next call, as in a pipeline: ours lands in a host Float32Array from the storage pool, kernels/pool.ts; tfjs's stays in its wasm heap, and only its first output is read back, for Δ). ` +
    `GFLOP/s from the median, counting a direct algorithm's work: 2·N·Cin·Cout·k²·H·W per conv pass, 2·N·In·Out per linear pass, 3× forward for a training step. ` +
    `% fp32 peak: of ${refs.fp32Peak.gflops} GFLOP/s (${refs.fp32Peak.source}). % WASM ceiling: of ${refs.wasmCeiling.gflops} GFLOP/s, 128-bit SIMD (${refs.wasmCeiling.source}). ` +
    `mul+add: the same row with the build without relaxed SIMD. tfjs / ours > 1: verydeep is faster. ` +
    `Δ: max |verydeep − tfjs| / max |verydeep| on the same inputs. ` +
    `PyTorch: bench/torch-peer.py, a long-lived Python process; where it runs, verydeep's samples of the row are taken in the same rounds, one of ours and one of torch's alternately (time.perf_counter there, after the same warm-up), and without it benchmark.js takes ours. ` +
    `× PyTorch speed = PyTorch ms / verydeep ms: > 1 means verydeep is faster. Δ torch: max |verydeep − torch| / max |verydeep| at 4,096 evenly spaced positions of the first result, both computed from the same formula inputs (torch-peer.ts). Memory-bound rows give GB/s of compulsory traffic. ` +
    `† another process used > 0.3 cores while the row was timed. ‡ the host ran under ${(100 * SLOW_HOST).toFixed(0)}% of its fastest speed in the run while the row was timed (see Host speed).`);
  lines.push('');
  lines.push('| workload | verydeep ms | GFLOP/s | % fp32 peak | % WASM ceiling | mul+add ms (GFLOP/s) | tfjs-wasm ms | tfjs GFLOP/s | tfjs / ours | Δ | PyTorch ms | PyTorch GFLOP/s | × PyTorch speed | Δ torch |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  const footnotes: string[] = [];
  /** a footnote's number; rows with the same note share it */
  const mark = (text: string) => {
    let i = footnotes.indexOf(text);
    if (i < 0) i = footnotes.push(text) - 1;
    return ` (${i + 1})`;
  };
  for (const r of rows) {
    const d = r.derived!;
    let label = r.label;
    if (r.imagesPerSecond !== undefined) label += ` = ${r.imagesPerSecond.toFixed(1)} images/s`;
    const ours = r.ours ? msCell(r.ours, fastest) : `error${mark(r.oursError ?? '')}`;
    const mulAdd = r.oursMulAdd ? `${msCell(r.oursMulAdd, fastest)} (${d.mulAddGflops?.toFixed(1) ?? '—'})` : '—';
    let peerCell: string, ratio: string;
    if (r.peerStatus === 'measured') {
      peerCell = msCell(r.peer, fastest);
      ratio = d.ratio === null ? '—' : `${d.ratio.toFixed(2)}×`;
    } else if (r.peerStatus === 'none') {
      peerCell = `none${mark(r.peerNote ?? '')}`;
      ratio = r.group === 'train' && r.imagesPerSecond !== undefined && r.torchStatus !== 'measured'
        ? `PyTorch ${refs.torchTrainImagesPerSecond.value} img/s: ${(r.imagesPerSecond / refs.torchTrainImagesPerSecond.value).toFixed(2)}× of it`
        : '—';
    } else if (r.peerStatus === 'error') {
      peerCell = `error${mark(r.peerNote ?? '')}`;
      ratio = '—';
    } else {
      peerCell = '—';
      ratio = '—';
    }
    label += r.notes.map(mark).join('');
    let torchCell: string, torchRatio = '—';
    if (r.torchStatus === 'measured') {
      torchCell = msCell(r.torch, fastest);
      torchRatio = d.torchRatio === null ? '—' : `${d.torchRatio.toFixed(2)}×`;
    } else if (r.torchStatus === 'not installed') {
      torchCell = `not installed${mark(r.torchNote ?? '')}`;
    } else if (r.torchStatus === 'error') {
      torchCell = `error${mark(r.torchNote ?? '')}`;
    } else {
      torchCell = '—';
    }
    const tAgree = r.torchAgreement === null ? (r.torchStatus === 'measured' && r.group === 'train' ? `n/a${mark('each side draws its own dropout masks and initial weights: the losses are not compared')}` : '—') : r.torchAgreement.toExponential(0);
    lines.push(`| ${label} | ${ours} | ${rateCell(d.gflops, d.gbps)} | ${pct(d.fractionOfPeak)} | ${pct(d.fractionOfWasmCeiling)} | ${mulAdd} | ${peerCell} | ${rateCell(d.peerGflops, d.peerGbps)} | ${ratio} | ${r.agreement === null ? '—' : r.agreement.toExponential(0)} | ${torchCell} | ${rateCell(d.torchGflops, null)} | ${torchRatio} | ${tAgree} |`);
  }
  if (footnotes.length) {
    lines.push('');
    footnotes.forEach((f, i) => lines.push(`${i + 1}. ${f}`));
  }
  lines.push('');
  lines.push(...targetsTable(rows, refs));
  lines.push('');
  lines.push(...torchTargetsTable(rows));
  return lines.join('\n') + '\n';
}

function range(values: number[], unit: string): string {
  if (!values.length) return 'not measured';
  const s = [...values].sort((a, b) => a - b);
  return `${s[0].toFixed(1)}–${s[s.length - 1].toFixed(1)} ${unit} (median ${s[s.length >> 1].toFixed(1)})`;
}

function targetsTable(rows: Row[], refs: typeof REFERENCES): string[] {
  const t = refs.targets;
  const g = (r: Row) => r.derived?.gflops ?? null;
  const conv3f = rows.filter((r) => r.group === 'conv3x3' && r.pass === 'forward' && g(r) !== null);
  const convB = rows.filter((r) => r.group === 'conv3x3' && r.pass.startsWith('grad') && g(r) !== null);
  const vgg16 = rows.find((r) => r.id.startsWith('vgg-d/224/b1') && r.ours);
  const train = rows.find((r) => r.group === 'train' && r.imagesPerSecond !== undefined);
  const verdict = (ok: boolean | null, by: string) => (ok === null ? '—' : ok ? 'met' : `missed${by}`);
  const minOf = (rs: Row[]) => (rs.length ? Math.min(...rs.map((r) => g(r)!)) : null);
  const out = ['Against the targets of issue 5 (every figure from this run):', '', '| target | measured | |', '|---|---|---|'];
  const c3 = minOf(conv3f);
  const ratios = conv3f.map((r) => r.derived?.ratio).filter((x): x is number => x !== null && x !== undefined);
  out.push(`| conv 3×3 forward ≥ ${t.conv3x3ForwardGflops} GFLOP/s effective, 1.5× tfjs-wasm | ${range(conv3f.map((r) => g(r)!), 'GFLOP/s')}${ratios.length ? `; ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}× tfjs` : ''} | ${verdict(c3 === null ? null : c3 >= t.conv3x3ForwardGflops && (!ratios.length || Math.min(...ratios) >= 1.5), c3 !== null && c3 < t.conv3x3ForwardGflops ? ` (slowest row ${(100 * (1 - c3 / t.conv3x3ForwardGflops)).toFixed(0)}% short)` : '')} |`);
  for (const pass of ['grad input', 'grad weight']) {
    const rs = convB.filter((r) => r.pass === pass);
    const lo = minOf(rs);
    out.push(`| conv 3×3 ${pass} ≥ ${t.convBackwardGflops} GFLOP/s effective | ${range(rs.map((r) => g(r)!), 'GFLOP/s')} | ${verdict(lo === null ? null : lo >= t.convBackwardGflops, lo !== null && lo < t.convBackwardGflops ? ` (slowest row ${(100 * (1 - lo / t.convBackwardGflops)).toFixed(0)}% short)` : '')} |`);
  }
  const s16 = vgg16?.ours ? vgg16.ours.medianMs / 1000 : null;
  out.push(`| VGG-16 forward 224 b1 < ${t.vgg16ForwardSeconds} s | ${s16 === null ? 'not measured' : `${s16.toFixed(3)} s${vgg16?.derived?.ratio ? ` (tfjs-wasm ${(vgg16.peer!.medianMs / 1000).toFixed(3)} s)` : ''}`} | ${verdict(s16 === null ? null : s16 < t.vgg16ForwardSeconds, s16 !== null ? ` by ${(100 * (s16 / t.vgg16ForwardSeconds - 1)).toFixed(0)}%` : '')} |`);
  const ips = train?.imagesPerSecond ?? null;
  const fullBatch = train?.batch === 64;
  out.push(`| training CIFAR VGG-11 b64 ≥ ${t.trainImagesPerSecond} images/s (stretch ${t.trainImagesPerSecondStretch}; PyTorch ${refs.torchTrainImagesPerSecond.value}) | ${ips === null ? 'not measured' : `${ips.toFixed(1)} images/s${fullBatch ? '' : ` at batch ${train!.batch}`}`} | ${fullBatch ? verdict(ips === null ? null : ips >= t.trainImagesPerSecond, ips !== null ? ` by ${(100 * (1 - ips / t.trainImagesPerSecond)).toFixed(0)}%` : '') : '—'} |`);
  return out;
}

/** the targets of issue 16, against PyTorch in the same run (alternating; ratios of medians, and the rounds' median) */
function torchTargetsTable(rows: Row[]): string[] {
  const out = ['Against PyTorch, the targets of issue 16 (× PyTorch speed = torch ms / verydeep ms, > 1: verydeep faster; paired: the median of the rounds\' ratios):', '',
    '| target | measured | |', '|---|---|---|'];
  const both = (r: Row) => `${r.derived!.torchRatio!.toFixed(2)}× (paired ${r.derived!.torchPairedRatio?.toFixed(2) ?? '—'}×)`;
  // a verdict from rows timed while other processes used the cores says little: 2-thread
  // figures under load are 3–5× slower, and not by the same factor for both libraries
  const loadedNote = (rs: Row[]) => (rs.some((r) => r.derived?.loaded) ? ' (timed under load, †: not a verdict)' : '');
  const met = (r: Row | undefined) => (!r || r.derived?.torchRatio == null ? '—' : `${r.derived.torchRatio >= 1 ? 'met' : 'missed'}${loadedNote([r])}`);
  const train = rows.find((r) => r.group === 'train' && r.torch && r.ours);
  out.push(`| CIFAR VGG-11 training step b64: ≥ 1.0× PyTorch's images/s | ${train ? `${(train.batch / (train.ours!.medianMs / 1000)).toFixed(1)} against ${(train.batch / (train.torch!.medianMs / 1000)).toFixed(1)} images/s: ${both(train)}${train.batch === 64 ? '' : ` at batch ${train.batch}`}` : 'not measured'} | ${train?.batch === 64 ? met(train) : '—'} |`);
  for (const [id, name] of [['vgg-d/224/b1', 'VGG-16 forward 224 b1: at most PyTorch\'s time'], ['vgg-a/224/b1', 'VGG-11 forward 224 b1 (no target)']]) {
    const r = rows.find((x) => x.id.startsWith(id) && x.torch && x.ours);
    out.push(`| ${name} | ${r ? `${r.ours!.medianMs.toFixed(0)} against ${r.torch!.medianMs.toFixed(0)} ms: ${both(r)}` : 'not measured'} | ${id.startsWith('vgg-d') ? met(r) : '—'} |`);
  }
  for (const pass of ['forward', 'grad input', 'grad weight']) {
    const rs = rows.filter((r) => r.group === 'conv3x3' && r.pass === pass && r.derived?.torchRatio != null);
    const at = rs.filter((r) => r.derived!.torchRatio! >= 1).length;
    const ratios = rs.map((r) => r.derived!.torchRatio!).sort((a, b) => a - b);
    out.push(`| conv 3×3 ${pass}: at or above PyTorch on ≥ 7 of 10 shapes | ${rs.length ? `${at} of ${rs.length} shapes; ${ratios[0].toFixed(2)}–${ratios[ratios.length - 1].toFixed(2)}× (median ${medianOf(ratios).toFixed(2)}×)` : 'not measured'} | ${rs.length === 10 ? `${at >= 7 ? 'met' : 'missed'}${loadedNote(rs)}` : '—'} |`);
  }
  return out;
}
