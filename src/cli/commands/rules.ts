/**
 * `leakwatch rules`: writes the Prometheus rules file (src/watch/prom-rules.ts) to stdout or
 * --out. Reads leakwatch's /metrics by default; `--from go_goroutines` gives the same rules on
 * client_golang's go_goroutines, for services leakwatch does not scrape.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { messageOf, UserError } from '../../errors.js';
import { printable } from '../../render/escape.js';
import {
  parseLabel,
  parseLabelNames,
  parseSelector,
  prometheusRules,
  type RulesSource,
} from '../../watch/prom-rules.js';
import { parseDuration } from '../../watch/targets.js';
import { collect, wholeNumber, type Cli } from '../context.js';

interface RulesFlags {
  from: string;
  selector: string;
  peakFactor: string;
  baseline: string;
  offset: string;
  for: string;
  growthWindow: string;
  growthMin: number;
  growthFor: string;
  interval?: string;
  replicaLabels: string;
  label: string[];
  out?: string;
}

const SOURCES: RulesSource[] = ['leakwatch', 'go_goroutines'];

function runRules(f: RulesFlags, cli: Cli): number {
  if (!SOURCES.includes(f.from as RulesSource))
    throw new UserError(`--from ${f.from}: expected ${SOURCES.join(' or ')}`);
  const peakFactor = Number(f.peakFactor);
  if (!(peakFactor > 1) || !Number.isFinite(peakFactor))
    throw new UserError(`--peak-factor ${f.peakFactor}: must be a number above 1`);
  if (f.growthMin < 1) throw new UserError('--growth-min: must be at least 1');
  const text = prometheusRules(
    {
      from: f.from as RulesSource,
      selector: parseSelector(f.selector),
      peakFactor,
      baselineMs: parseDuration(f.baseline, '--baseline'),
      offsetMs: parseDuration(f.offset, '--offset'),
      peakForMs: parseDuration(f.for, '--for'),
      growthWindowMs: parseDuration(f.growthWindow, '--growth-window'),
      growthMin: f.growthMin,
      growthForMs: parseDuration(f.growthFor, '--growth-for'),
      intervalMs: f.interval === undefined ? undefined : parseDuration(f.interval, '--interval'),
      replicaLabels: parseLabelNames(f.replicaLabels, '--replica-labels'),
      labels: Object.fromEntries(f.label.map(parseLabel)),
    },
    ['leakwatch', 'rules', ...cli.args.slice(1)].map(quoteArg).join(' '),
  );
  if (f.out === undefined) {
    cli.io.stdout.write(text);
    return 0;
  }
  try {
    writeFileSync(f.out, text);
  } catch (err) {
    throw new UserError(`--out ${f.out}: cannot write (${messageOf(err)})`);
  }
  cli.io.stderr.write(`leakwatch: rules written to ${printable(f.out)}\n`);
  return 0;
}

/** An argument as a shell would need it, for the file's header. */
function quoteArg(a: string): string {
  return /^[\w./:=,@%+-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

export function register(program: Command, cli: Cli): void {
  program
    .command('rules')
    .description('write Prometheus recording and alerting rules for goroutine leaks')
    .option(
      '--from <source>',
      "series to read: leakwatch (leakwatch's /metrics) or go_goroutines (client_golang)",
      'leakwatch',
    )
    .option('--selector <matchers>', 'PromQL label matchers for every series, e.g. job="api"', '')
    .option('--peak-factor <x>', 'alert above x times the normal peak', '1.5')
    .option('--baseline <duration>', 'window the normal peak is the highest total of', '24h')
    .option('--offset <duration>', 'the baseline window ends this long ago', '1h')
    .option('--for <duration>', 'above the peak this long before the alert fires', '5m')
    .option('--growth-window <duration>', 'window a rise is measured over', '30m')
    .option(
      '--growth-min <n>',
      'smallest rise over the window that alerts (goroutines)',
      wholeNumber('--growth-min'),
      50,
    )
    .option('--growth-for <duration>', 'rising this long before the alert fires', '10m')
    .option('--interval <duration>', "the rules' evaluation interval (default: Prometheus's)")
    .option(
      '--replica-labels <names>',
      'labels that differ between leakwatch replicas, aggregated away (comma-separated)',
      'instance',
    )
    .option('--label <name=value>', 'a label on both alerts, e.g. severity=page', collect, [])
    .option('--out <file>', 'write the rules here instead of stdout')
    .action((opts: RulesFlags) => {
      cli.exit(runRules(opts, cli));
    });
}
