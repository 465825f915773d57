/**
 * Plugin loading by path (file, package directory) and by package name, what a plugin binds
 * becoming usable from a spec and from its container's component set (and nowhere else), and
 * every loading error.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { PluginError, SpecError, Tokens, createContainer, loadPlugin, resolveRun, scoreExtraMetrics, validateSpec } from '@boltzmann/container';
import { L2WeightDecay, buildModel, checkOptionKeys, checkSampleRequest, defaultComponents, type EnergyModel, type Sampler, type SamplerSpec } from '@boltzmann/core';
import { CpuBackend } from '@boltzmann/backend-cpu';
import { ContainerModule } from 'inversify';
import { InvalidValueError, Matrix, ReferenceBackend } from '@boltzmann/tensor';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const examplePlugin = join(repoRoot, 'examples', 'custom-unit-plugin');

describe('container: plugins', function () {
  async function rejection(p: Promise<unknown>): Promise<Error> {
    try {
      await p;
    } catch (error) {
      return error as Error;
    }
    expect.fail('expected a rejection');
  }

  describe('plugins by path', function () {
    it('a module file: its metric and data source are usable from a spec, scored as written', async function () {
      const container = await createContainer({ plugins: ['./metric-plugin.ts'], baseDir: fixtures, optionalBackends: false });
      expect(container.plugins.map((p) => p.file)).to.deep.equal([join(fixtures, 'metric-plugin.ts')]);
      expect(container.catalog.names('metric')).to.include('meanVisible');
      const spec = validateSpec(
        {
          model: { layers: [{ type: 'bernoulli', name: 'visible', size: 3 }, { type: 'bernoulli', name: 'hidden', size: 2 }] },
          data: { source: { type: 'counting', rows: 11 }, validationSplit: 0 },
          training: { metrics: ['meanVisible', 'freeEnergy'] },
        },
        container.catalog,
      );
      const run = await resolveRun(container, spec);
      try {
        expect(run.extraMetrics.map((m) => m.name)).to.deep.equal(['meanVisible']);
        expect(run.extraMetrics[0]!.heldOut).to.equal(undefined);
        expect(run.monitor).to.deep.include({ freeEnergy: true, pseudoLikelihood: false });
        // 11 rows of (r mod 2, 1, 0): 5 ones in column 0, 11 in column 1, over 33 values.
        const scored = await scoreExtraMetrics(run, run.data.train);
        expect(scored['meanVisible']).to.be.closeTo(16 / 33, 1e-7);
      } finally {
        run.dispose();
      }
    });

    it('a package directory (its package.json exports): the example plugin\'s unit type is in its container\'s set, which core\'s buildModel takes', async function () {
      const container = await createContainer({ plugins: [examplePlugin], optionalBackends: false });
      expect(container.catalog.names('unitType')).to.include('ising');
      expect(container.components.regularizers.has('hidden-max-norm')).to.equal(true);
      const spec = { kind: 'rbm', layers: [{ type: 'ising', name: 'visible', size: 3 }, { type: 'bernoulli', name: 'hidden', size: 2 }], connections: [{ type: 'dense', name: 'visible-hidden', from: 'visible', to: 'hidden' }] };
      const model = buildModel(new ReferenceBackend(), spec, { components: container.components });
      expect(model.layers.map((l) => l.type)).to.deep.equal(['ising', 'bernoulli']);
      expect(model.components).to.equal(container.components);
      model.dispose();
      // Nothing was written into core's built-ins: without the container's set the type is unknown.
      expect(defaultComponents().unitTypes.has('ising')).to.equal(false);
      expect(() => buildModel(new ReferenceBackend(), spec)).to.throw(InvalidValueError, /unknown unit type "ising"/);
    });

    it('a plugin may replace a built-in, in its own container only', async function () {
      const container = await createContainer({ plugins: ['./override-l2.ts'], baseDir: fixtures, optionalBackends: false });
      const built = container.catalog.factory('regularizer', 'l2')({ type: 'l2', coefficient: 0.5 });
      expect(built.constructor.name).to.equal('PluginL2');
      // A second container, and core's built-ins, keep the built-in.
      const second = await createContainer({ optionalBackends: false });
      expect(second.catalog.factory('regularizer', 'l2')({ type: 'l2', coefficient: 0.5 })).to.be.instanceOf(L2WeightDecay);
      expect(defaultComponents().regularizers.get('l2')({ type: 'l2', coefficient: 0.5 })).to.be.instanceOf(L2WeightDecay);
    });

    it('the same plugin named twice is loaded once', async function () {
      const container = await createContainer({ plugins: [join(fixtures, 'metric-plugin.ts'), './metric-plugin.ts'], baseDir: fixtures, optionalBackends: false });
      expect(container.plugins).to.have.length(1);
    });
  });

  describe('plugins by package name', function () {
    let dir: string;

    before(function () {
      // A project with one installed plugin package (plain ESM JavaScript) beside inversify.
      dir = mkdtempSync(join(tmpdir(), 'boltzmann-plugin-'));
      const pkg = join(dir, 'node_modules', 'boltzmann-plugin-fixture');
      mkdirSync(pkg, { recursive: true });
      symlinkSync(join(repoRoot, 'node_modules', 'inversify'), join(dir, 'node_modules', 'inversify'), 'dir');
      writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'boltzmann-plugin-fixture', type: 'module', exports: { '.': { import: './index.mjs' } } }));
      writeFileSync(
        join(pkg, 'index.mjs'),
        [
          "import { ContainerModule } from 'inversify';",
          'export const containerModule = new ContainerModule(({ bind }) => {',
          "  bind(Symbol.for('@boltzmann/container:regularizer')).toConstantValue({",
          "    name: 'fixture-noop',",
          "    factory: () => ({ type: 'fixture-noop', spec: () => ({ type: 'fixture-noop' }) }),",
          '  });',
          '});',
        ].join('\n'),
      );
    });

    after(function () {
      rmSync(dir, { recursive: true, force: true });
    });

    it('resolves the package from the base directory and binds what it exports', async function () {
      const container = await createContainer({ plugins: ['boltzmann-plugin-fixture'], baseDir: dir, optionalBackends: false });
      expect(container.plugins[0]!.file).to.match(/boltzmann-plugin-fixture[\\/]index\.mjs$/);
      expect(container.catalog.names('regularizer')).to.include('fixture-noop');
      expect(container.components.regularizers.has('fixture-noop')).to.equal(true);
      const spec = validateSpec({ training: { regularizers: [{ type: 'fixture-noop' }] } }, container.catalog);
      expect(spec.training.regularizers).to.deep.equal([{ type: 'fixture-noop' }]);
    });

    it('an installed package that is not a plugin: names the export it lacks and lists what it has', async function () {
      const error = await rejection(loadPlugin('@boltzmann/data', repoRoot));
      expect(error).to.be.instanceOf(PluginError);
      expect(error.message).to.match(/plugin "@boltzmann\/data" .* must export "containerModule", an inversify ContainerModule; it exports: .*loadDigits/);
    });

    it('an unknown package name', async function () {
      const error = await rejection(loadPlugin('boltzmann-plugin-that-does-not-exist', dir));
      expect(error).to.be.instanceOf(PluginError);
      expect(error.message).to.match(/plugin "boltzmann-plugin-that-does-not-exist" not found: no package of that name is installed .*start the path with \.\/ or \//);
    });
  });

  describe('a plugin sampler (an inline ContainerModule)', function () {
    /** Fills every visible unit with `value`: enough to see the spec's options and the request reach it. */
    class ConstantSampler implements Sampler {
      readonly type = 'constant';
      constructor(readonly model: EnergyModel, readonly value: number) {}
      async sample(request: Parameters<Sampler['sample']>[0]): Promise<Matrix> {
        const { count } = checkSampleRequest(this.model, request);
        return new Matrix(count, this.model.layers[0]!.size, new Float64Array(count * this.model.layers[0]!.size).fill(this.value));
      }
      describe(sweeps: number): string {
        return `${sweeps} constant sweeps`;
      }
      spec(): SamplerSpec {
        return { type: this.type, value: this.value };
      }
    }
    const samplerPlugin = new ContainerModule(({ bind }) => {
      bind(Tokens.sampler).toConstantValue({
        name: 'constant',
        factory: (model, spec) => {
          checkOptionKeys('sampler "constant"', spec, ['value']);
          const value = spec['value'] ?? 0.5;
          if (typeof value !== 'number' || !(value >= 0 && value <= 1)) throw new InvalidValueError(`sampler "constant" value must be in [0, 1], got ${String(value)}`);
          return new ConstantSampler(model, value);
        },
      });
    });
    const tiny = (sampler: unknown) => ({
      model: { layers: [{ type: 'bernoulli', name: 'visible', size: 4 }, { type: 'bernoulli', name: 'hidden', size: 2 }] },
      data: { source: { type: 'bars-and-stripes', size: 2 }, validationSplit: 0 },
      output: { samples: { sampler } },
    });

    it('is listed and usable from a spec, in its container\'s set only', async function () {
      const container = await createContainer({ modules: [samplerPlugin], optionalBackends: false });
      expect(container.catalog.names('sampler')).to.include.members(['constant', 'gibbs', 'glauber', 'parallel-dynamics']);
      expect(container.components.samplers.has('constant')).to.equal(true);
      const run = await resolveRun(container, validateSpec(tiny({ type: 'constant', value: 0.25 }), container.catalog));
      try {
        expect(run.sampler).to.be.instanceOf(ConstantSampler);
        expect(run.sampler!.spec()).to.deep.equal({ type: 'constant', value: 0.25 });
        const rows = await run.sampler!.sample({ count: 3, sweeps: 1 });
        expect([rows.rows, rows.cols, ...new Set(rows.data)]).to.deep.equal([3, 4, 0.25]);
      } finally {
        run.dispose();
      }
      const e = await rejection(resolveRun(container, validateSpec(tiny({ type: 'constant', value: 2 }), container.catalog)));
      expect(e).to.be.instanceOf(SpecError);
      expect((e as SpecError).issues[0]).to.deep.equal({ path: 'output.samples.sampler', message: 'sampler "constant" value must be in [0, 1], got 2' });
      expect(defaultComponents().samplers.has('constant')).to.equal(false);
      expect(defaultComponents().samplers.names()).to.include.members(['gibbs', 'glauber', 'parallel-dynamics']);
    });

    it('without the plugin the name is unknown, and the error lists the registered samplers', async function () {
      const container = await createContainer({ optionalBackends: false });
      expect(() => validateSpec(tiny({ type: 'constant' }), container.catalog)).to.throw(SpecError, /output\.samples\.sampler\.type: unknown sampler "constant"; registered: gibbs, glauber, parallel-dynamics/);
    });
  });

  describe('a plugin backend', function () {
    const backendPlugin = new ContainerModule(({ bind }) => {
      bind(Tokens.backend).toConstantValue({ name: 'reference', factory: () => new ReferenceBackend(), priority: 1000 });
      bind(Tokens.backend).toConstantValue({ name: 'absent', factory: () => new ReferenceBackend(), priority: 2000, available: () => false });
    });

    it('"auto" picks the available backend of highest priority in its own container; other containers keep the CPU one', async function () {
      const container = await createContainer({ modules: [backendPlugin], optionalBackends: false });
      expect(container.catalog.names('backend')).to.include.members(['absent', 'auto', 'cpu', 'reference']);
      expect(container.catalog.factory('backend', 'auto')()).to.be.instanceOf(ReferenceBackend);
      expect(() => container.catalog.factory('backend', 'absent')()).to.throw(InvalidValueError, 'backend "absent" is not available on this machine');
      const plain = await createContainer({ optionalBackends: false });
      expect(plain.catalog.names('backend')).to.not.include('reference');
      expect(plain.catalog.factory('backend', 'auto')()).to.be.instanceOf(CpuBackend);
    });

    it('a plugin cannot bind "auto"', async function () {
      const auto = new ContainerModule(({ bind }) => {
        bind(Tokens.backend).toConstantValue({ name: 'auto', factory: () => new ReferenceBackend() });
      });
      const error = await rejection(createContainer({ modules: [auto], optionalBackends: false }));
      expect(error.message).to.match(/cannot bind a backend named "auto"/);
    });
  });

  describe('plugin errors', function () {
    it('a missing path', async function () {
      const error = await rejection(loadPlugin('./nowhere.ts', fixtures));
      expect(error).to.be.instanceOf(PluginError);
      expect(error.message).to.match(/plugin "\.\/nowhere\.ts" not found: .*nowhere\.ts does not exist/);
    });

    it('a module without the export', async function () {
      const error = await rejection(loadPlugin('./no-export.ts', fixtures));
      expect(error.message).to.match(/must export "containerModule".*it exports: .*somethingElse/);
    });

    it('a module that throws when imported', async function () {
      const error = await rejection(loadPlugin('./throws-on-import.ts', fixtures));
      expect(error).to.be.instanceOf(PluginError);
      expect(error.message).to.match(/plugin "\.\/throws-on-import\.ts" .* failed to load: this plugin is broken on purpose/);
    });

    it('a directory with no entry', async function () {
      const empty = mkdtempSync(join(tmpdir(), 'boltzmann-empty-'));
      try {
        const error = await rejection(loadPlugin(empty));
        expect(error.message).to.match(/has no entry \(no package\.json "exports"\/"main", no src\/index\.ts/);
      } finally {
        rmSync(empty, { recursive: true, force: true });
      }
    });

    it('a binding without a factory', async function () {
      const error = await rejection(createContainer({ plugins: ['./bad-binding.ts'], baseDir: fixtures, optionalBackends: false }));
      expect(error).to.be.instanceOf(InvalidValueError);
      expect(error.message).to.match(/binding #\d+ of regularizers must be an object \{ name: non-empty string, factory: function \}, got \{ name: "broken", factory: undefined \}/);
    });

    it('an empty specifier', async function () {
      const error = await rejection(loadPlugin('  '));
      expect(error.message).to.match(/non-empty package name or path/);
    });
  });
});
