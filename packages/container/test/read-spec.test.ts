import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { FormatError } from '@boltzmann/tensor';
import { createContainer, readSpecFile, validateSpec } from '../src/index.js';

describe('container: spec files in JSON or YAML', function () {
  let dir: string;
  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'boltzmann-spec-'));
  });
  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  const spec = {
    model: { layers: [{ type: 'bernoulli', name: 'visible', size: 16 }, { type: 'bernoulli', name: 'hidden', size: 8 }] },
    training: { epochs: 2, learningRate: { type: 'linear', from: 0.1, to: 0.01, end: 2 }, regularizers: [{ type: 'l2', coefficient: 0.0001 }] },
    data: { source: { type: 'bars-and-stripes', size: 4, count: 100 } },
    seed: 3,
  };
  const yaml = `# the same run as the JSON file
model:
  layers:
    - { type: bernoulli, name: visible, size: 16 }
    - type: bernoulli
      name: hidden
      size: 8
training:
  epochs: 2
  learningRate: { type: linear, from: 0.1, to: 0.01, end: 2 }
  regularizers:
    - type: l2
      coefficient: 1.0e-4
data:
  source: { type: bars-and-stripes, size: 4, count: 100 }
seed: 3
`;

  function write(name: string, text: string): string {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  }

  it('a .yaml / .yml file reads as the same object as the .json one, and validates the same', async function () {
    const fromJson = readSpecFile(write('run.json', JSON.stringify(spec)));
    const fromYaml = readSpecFile(write('run.yaml', yaml));
    expect(fromYaml).to.deep.equal(fromJson);
    expect(readSpecFile(write('run.YML', yaml))).to.deep.equal(fromJson);
    const container = await createContainer();
    expect(validateSpec(fromYaml, container.catalog)).to.deep.equal(validateSpec(fromJson, container.catalog));
  });

  it('YAML syntax errors, duplicate keys and unknown tags name the file, line and column; JSON errors stay JSON', function () {
    const bad = write('bad.yaml', 'model:\n  layers: [1, 2\nseed: 3\n');
    expect(() => readSpecFile(bad)).to.throw(FormatError, /spec file ".*bad\.yaml" is not valid YAML \(line 3, column 1\)/);
    const twice = write('twice.yml', 'seed: 1\nseed: 2\n');
    expect(() => readSpecFile(twice)).to.throw(FormatError, /twice\.yml" is not valid YAML \(line 2, column 1\): .*[Uu]nique/);
    const tagged = write('tagged.yaml', 'seed: !custom 1\n');
    expect(() => readSpecFile(tagged)).to.throw(FormatError, /tagged\.yaml" is not valid YAML \(line 1, column 7\): Unresolved tag: !custom/);
    const json = write('bad.json', '{"seed": 1,}');
    expect(() => readSpecFile(json)).to.throw(FormatError, /bad\.json" is not valid JSON/);
    expect(() => readSpecFile(join(dir, 'missing.yaml'))).to.throw(FormatError, /spec file ".*missing\.yaml" does not exist/);
  });

  it('a YAML spec with a bad field is refused by validation naming the field, like JSON', async function () {
    const container = await createContainer();
    const parsed = readSpecFile(write('typo.yaml', 'training:\n  batchSize: 0\n'));
    expect(() => validateSpec(parsed, container.catalog, { source: 'typo.yaml' })).to.throw(/invalid typo\.yaml: training\.batchSize: .*got 0/);
  });
});
