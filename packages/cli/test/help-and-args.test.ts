/** --help of every command, the argument parser, and the writers with no dependency (SVG plot, .npy). */
import { expect } from 'chai';
import { COMMANDS, UsageError, decodeNpy, encodeCsv, encodeNpy, niceTicks, parseArgs, plotSvg, runCli, type CommandDef } from '@boltzmann/cli';
import { Matrix } from '@boltzmann/tensor';
import { parseDataOption, parseSamplerOption } from '../src/common.js';
import { memoryIO } from './helpers.js';

describe('cli: --help', function () {
  it('boltzmann --help lists every command', async function () {
    const m = memoryIO('/');
    expect(await runCli(['--help'], m.io)).to.equal(0);
    expect(m.stdout()).to.match(/^Usage: boltzmann <command>/);
    for (const name of ['train', 'evaluate', 'sample', 'transform', 'logz', 'convert', 'info']) expect(m.stdout()).to.match(new RegExp(`\\n  ${name} +\\S`));
  });

  for (const command of COMMANDS) {
    it(`boltzmann ${command.def.name} --help shows its usage and every option`, async function () {
      for (const argv of [[command.def.name, '--help'], [command.def.name, '-h'], ['help', command.def.name]]) {
        const m = memoryIO('/');
        expect(await runCli(argv, m.io)).to.equal(0);
        const text = m.stdout();
        expect(text).to.match(new RegExp(`^Usage: boltzmann ${command.def.name}`));
        for (const o of command.def.options) expect(text).to.include(`--${o.name}`);
        expect(text).to.include('-h, --help');
        expect(m.stderr()).to.equal('');
      }
    });
  }
});

describe('cli: argument parsing', function () {
  const def: CommandDef = {
    name: 'demo',
    summary: 'demo',
    positionals: ['<a>', '[b]'],
    options: [
      { name: 'count', kind: 'integer', help: '' },
      { name: 'rate', kind: 'number', help: '' },
      { name: 'name', kind: 'string', help: '' },
      { name: 'flag', kind: 'boolean', help: '' },
      { name: 'plugin', kind: 'list', help: '' },
    ],
  };

  it('reads --x v, --x=v, flags, repeated lists, negative numbers and --', function () {
    const p = parseArgs(def, ['a1', '--count', '3', '--rate=-0.5', '--flag', '--plugin', 'p', '--plugin=q', '--name', 'n', '--', '--b']);
    expect(p.positionals).to.deep.equal(['a1', '--b']);
    expect(p.options).to.deep.equal({ count: 3, rate: -0.5, flag: true, plugin: ['p', 'q'], name: 'n' });
    expect(parseArgs(def, ['x', '--flag=false']).options['flag']).to.equal(false);
  });

  it('rejects what it cannot read, naming it', function () {
    const bad: [string[], RegExp][] = [
      [['x', '--cout', '1'], /unknown option --cout for "demo" \(did you mean --count\?\)/],
      [['x', '--count', '1.5'], /--count must be an integer, got "1.5"/],
      [['x', '--rate', 'fast'], /--rate must be a number, got "fast"/],
      [['x', '--name'], /--name needs a value/],
      [['x', '--name', '--flag'], /--name needs a value/],
      [['x', '--flag=maybe'], /--flag is a flag/],
      [['x', 'y', 'z'], /takes at most 2 argument\(s\): <a> \[b\], got: x y z/],
      [[], /"demo" needs <a>/],
      [['x', '-q'], /unknown option -q/],
    ];
    for (const [argv, message] of bad) expect(() => parseArgs(def, argv), argv.join(' ')).to.throw(UsageError, message);
  });
});

describe('cli: SVG plot and .npy writer', function () {
  it('nice ticks cover the range with 1, 2 or 5 times a power of ten', function () {
    expect(niceTicks(0.013, 0.041, 5, false)).to.deep.equal([0.01, 0.02, 0.03, 0.04, 0.05]);
    expect(niceTicks(1, 20, 8, true)).to.deep.equal([0, 5, 10, 15, 20]);
    expect(niceTicks(-317, -127, 5, false)).to.deep.equal([-350, -300, -250, -200, -150, -100]);
  });

  it('plots one panel per chart, one polyline per series, and leaves gaps at non-finite values', function () {
    const svg = plotSvg([
      { title: 'A <b>', series: [{ name: 'x', points: [[1, 1], [2, NaN], [3, 2], [4, 3]] }] },
      { title: 'B', series: [{ name: 'y', points: [[1, 5]] }, { name: 'z', points: [] }] },
    ]);
    expect(svg).to.include('A &lt;b&gt;');
    expect(svg.match(/<polyline /g)).to.have.length(1); // [3,2]-[4,3]; single points get only a dot
    expect(svg.match(/<circle /g)).to.have.length(4);
    expect(svg).to.not.match(/NaN|Infinity/);
    expect(svg).to.match(/height="480"/);
  });

  it('.npy round-trips float32 and float64 with a 64-byte aligned header; CSV keeps float32 values', function () {
    for (const m of [new Matrix(3, 129, Float32Array.from({ length: 387 }, (_, i) => Math.fround(Math.sin(i)))), new Matrix(1, 1, Float64Array.of(Math.PI))]) {
      const bytes = encodeNpy(m);
      expect(Array.from(bytes.subarray(0, 8))).to.deep.equal([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
      const headerLength = bytes[8]! + 256 * bytes[9]!;
      expect((10 + headerLength) % 64).to.equal(0);
      const header = String.fromCharCode(...bytes.subarray(10, 10 + headerLength));
      expect(header).to.match(new RegExp(`^\\{'descr': '<f${m.data.BYTES_PER_ELEMENT}', 'fortran_order': False, 'shape': \\(${m.rows}, ${m.cols}\\), \\} *\\n$`));
      const back = decodeNpy(bytes);
      expect(back.data.constructor).to.equal(m.data.constructor);
      expect(Array.from(back.data)).to.deep.equal(Array.from(m.data));
    }
    const m = new Matrix(2, 2, Float32Array.of(0.1, 1 / 3, -2.5e-8, 7));
    const csv = encodeCsv(m, ['a', 'b']).trim().split('\n');
    expect(csv[0]).to.equal('a,b');
    expect(csv.slice(1).flatMap((l) => l.split(',').map((x) => Math.fround(Number(x))))).to.deep.equal(Array.from(m.data));
    expect(() => decodeNpy(new Uint8Array(12))).to.throw(/not a \.npy file/);
  });
});

describe('cli: --data and --sampler given as JSON', function () {
  it('parse to the object, and bad JSON or an object without a "type" is a UsageError naming the option', function () {
    expect(parseDataOption('{"type":"csv","path":"a.csv"}')).to.deep.equal({ type: 'csv', path: 'a.csv' });
    expect(parseSamplerOption(' {"type":"glauber","temperature":0.5}')).to.deep.equal({ type: 'glauber', temperature: 0.5 });
    const thrown = (f: () => unknown): Error => {
      try {
        f();
      } catch (error) {
        expect(error).to.be.instanceOf(UsageError);
        return error as Error;
      }
      return expect.fail('accepted');
    };
    expect(thrown(() => parseDataOption('{"type":')).message).to.match(/^--data: not valid JSON: /);
    expect(thrown(() => parseSamplerOption('{"type":')).message).to.match(/^--sampler: not valid JSON: /);
    expect(thrown(() => parseDataOption('{"path":"a.csv"}')).message).to.equal('--data: a JSON data source is an object with a "type"');
    expect(thrown(() => parseSamplerOption('{"type":3}')).message).to.equal('--sampler: a JSON sampler is an object with a "type", e.g. {"type":"glauber","temperature":0.5}');
  });
});
