#!/usr/bin/env node
/*
 * Checks the Dockerfile against the rules the image must keep, without a Docker engine:
 * multi-stage on Node 22 slim (bookworm), a production build stage, production dependencies
 * only in the image, a non-root user, a HEALTHCHECK on the liveness endpoint, the agreed CMD
 * with config files that exist, and COPY sources that exist in the repository and are not
 * left out of the build context by .dockerignore.
 *
 *   node scripts/check-dockerfile.js      prints the problems, exits 1 when there are any
 *
 * packages/backend/src/container.test.ts runs it under Jest, so CI does too.
 */
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const EXPECTED_CMD = [
  'node',
  'packages/backend',
  '--config',
  'app-config.yaml',
  '--config',
  'app-config.production.yaml',
];
const LIVENESS = '/.backstage/health/v1/liveness';

/** Splits a Dockerfile into instructions: continuations joined, comments dropped. */
function parseDockerfile(text) {
  const instructions = [];
  let buffer = '';
  let startLine = 0;
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const trimmed = raw.trim();
    if (!buffer && (trimmed === '' || trimmed.startsWith('#'))) return;
    if (buffer && trimmed.startsWith('#')) return; // comment inside a continuation
    if (!buffer) startLine = index + 1;
    if (trimmed.endsWith('\\')) {
      buffer += `${trimmed.slice(0, -1)} `;
      return;
    }
    buffer += trimmed;
    const match = /^(\S+)\s*([\s\S]*)$/.exec(buffer);
    instructions.push({
      line: startLine,
      keyword: match[1].toUpperCase(),
      args: match[2].trim(),
    });
    buffer = '';
  });
  if (buffer) throw new Error('Dockerfile ends inside a line continuation');
  return instructions;
}

/** Splits shell-like words, honouring single and double quotes. */
function splitWords(value) {
  const words = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  let m;
  while ((m = re.exec(value))) {
    words.push(m[1] ?? m[2] ?? m[3]);
  }
  return words;
}

/** The exec form (a JSON array) as an array, or undefined for the shell form. */
function execForm(args) {
  if (!args.startsWith('[')) return undefined;
  try {
    const parsed = JSON.parse(args);
    return Array.isArray(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** COPY/ADD arguments: flags, sources and destination. */
function parseCopy(args) {
  const words = execForm(args) ?? splitWords(args);
  const flags = {};
  while (words.length && words[0].startsWith('--')) {
    const [key, ...rest] = words.shift().slice(2).split('=');
    flags[key] = rest.join('=');
  }
  const destination = words.pop();
  return { flags, sources: words, destination };
}

/** Groups instructions by stage; resolves ARG defaults declared before the first FROM. */
function stagesOf(instructions) {
  const globalArgs = {};
  const stages = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const words = splitWords(instruction.args).filter(
        w => !w.startsWith('--'),
      );
      const image = words[0].replace(
        /\$\{?(\w+)\}?/g,
        (_, name) => globalArgs[name] ?? '',
      );
      const asIndex = words.findIndex(w => w.toUpperCase() === 'AS');
      stages.push({
        image,
        name: asIndex >= 0 ? words[asIndex + 1] : String(stages.length),
        line: instruction.line,
        instructions: [],
      });
    } else if (!stages.length) {
      if (instruction.keyword === 'ARG') {
        const [name, ...value] = instruction.args.split('=');
        globalArgs[name.trim()] = value.join('=').replace(/^"|"$/g, '');
      }
    } else {
      stages[stages.length - 1].instructions.push(instruction);
    }
  }
  return stages;
}

/** .dockerignore patterns as matchers of a relative path (no negations are used here). */
function dockerignoreMatchers(text) {
  return text
    .split(/\r?\n/)
    .map(l => l.trim())
    .filter(l => l && !l.startsWith('#'))
    .map(pattern => {
      if (pattern.startsWith('!')) {
        throw new Error(
          `.dockerignore: negations (${pattern}) are not supported by this check`,
        );
      }
      const source = pattern
        .replace(/^\.?\//, '')
        .replace(/\/$/, '')
        .split('/')
        .map(part =>
          part === '**'
            ? '(?:.*)'
            : part
                .replace(/[.+^${}()|[\]\\]/g, '\\$&')
                .replace(/\*/g, '[^/]*')
                .replace(/\?/g, '[^/]'),
        )
        .join('/')
        .replace(/\(\?:\.\*\)\//g, '(?:.*/)?');
      const re = new RegExp(`^${source}$`);
      return { pattern, re };
    });
}

/** The pattern that keeps `relative` (or one of its parents) out of the build context. */
function ignoredBy(relative, matchers) {
  const parts = relative.split('/');
  for (let i = 1; i <= parts.length; i++) {
    const candidate = parts.slice(0, i).join('/');
    const hit = matchers.find(m => m.re.test(candidate));
    if (hit) return hit.pattern;
  }
  return undefined;
}

function runsCommand(stage, pattern) {
  return stage.instructions.some(
    i => i.keyword === 'RUN' && pattern.test(i.args),
  );
}

/**
 * Checks the Dockerfile in `root` and returns the problems found (empty when it is fine).
 */
function checkDockerfile(root = path.resolve(__dirname, '..')) {
  const problems = [];
  const dockerfile = path.join(root, 'Dockerfile');
  if (!fs.existsSync(dockerfile)) return ['Dockerfile is missing'];
  const ignorePath = path.join(root, '.dockerignore');
  if (!fs.existsSync(ignorePath)) problems.push('.dockerignore is missing');
  const matchers = fs.existsSync(ignorePath)
    ? dockerignoreMatchers(fs.readFileSync(ignorePath, 'utf8'))
    : [];
  for (const mustIgnore of ['node_modules', '.git', '.tools', '.env']) {
    if (!ignoredBy(mustIgnore, matchers)) {
      problems.push(`.dockerignore does not leave out ${mustIgnore}`);
    }
  }

  const stages = stagesOf(parseDockerfile(fs.readFileSync(dockerfile, 'utf8')));
  if (stages.length < 2) {
    problems.push(`expected a multi-stage build, found ${stages.length} stage`);
  }
  for (const stage of stages) {
    if (
      !/^node:22[.\d]*-bookworm-slim(@sha256:[0-9a-f]{64})?$/.test(stage.image)
    ) {
      problems.push(
        `stage ${stage.name} (line ${stage.line}) is FROM ${stage.image}, not node:22-bookworm-slim`,
      );
    }
  }
  const names = stages.map(s => s.name);
  const final = stages[stages.length - 1];
  if (!final) return problems;

  // COPY sources: from an earlier stage, or from the repository and inside the context.
  stages.forEach((stage, index) => {
    for (const instruction of stage.instructions) {
      if (instruction.keyword === 'ADD') {
        problems.push(`line ${instruction.line}: use COPY, not ADD`);
      }
      if (instruction.keyword !== 'COPY') continue;
      const { flags, sources } = parseCopy(instruction.args);
      if (flags.from !== undefined) {
        if (!names.slice(0, index).includes(flags.from)) {
          problems.push(
            `line ${instruction.line}: COPY --from=${flags.from} is not an earlier stage`,
          );
        }
        continue;
      }
      for (const source of sources) {
        const relative = path.posix.normalize(source).replace(/\/$/, '');
        if (relative.startsWith('..') || path.isAbsolute(relative)) {
          problems.push(
            `line ${instruction.line}: ${source} is outside the context`,
          );
        } else if (relative.includes('*')) {
          problems.push(`line ${instruction.line}: wildcard source ${source}`);
        } else if (!fs.existsSync(path.join(root, relative))) {
          problems.push(
            `line ${instruction.line}: COPY source ${source} does not exist`,
          );
        } else if (relative !== '.' && ignoredBy(relative, matchers)) {
          problems.push(
            `line ${
              instruction.line
            }: COPY source ${source} is excluded by .dockerignore (${ignoredBy(
              relative,
              matchers,
            )})`,
          );
        }
        if (/^\.yarn\/releases/.test(relative)) {
          problems.push(
            `line ${instruction.line}: Yarn's bundle is not copied`,
          );
        }
      }
    }
  });

  // The build: the same production build as CI.
  const build = stages.find(s => runsCommand(s, /\byarn build:backend\b/));
  if (!build) problems.push('no stage runs `yarn build:backend`');
  if (!stages.some(s => runsCommand(s, /\byarn tsc\b/))) {
    problems.push('no stage runs `yarn tsc`');
  }
  if (!stages.some(s => runsCommand(s, /\bscripts\/toolchain\.sh\b/))) {
    problems.push('Yarn does not come from scripts/toolchain.sh');
  }
  if (
    !stages.some(s =>
      runsCommand(s, /\byarn workspaces focus\b.*--all\b.*--production\b/),
    )
  ) {
    problems.push('no stage installs production dependencies only');
  }
  if (runsCommand(final, /\byarn (install|tsc|build)/)) {
    problems.push('the final stage installs or builds; it should only copy');
  }

  // The final stage: non-root, production, healthcheck, CMD.
  const finalIndex = (keyword, from = final.instructions) =>
    from.map(i => i.keyword).lastIndexOf(keyword);
  const users = final.instructions.filter(i => i.keyword === 'USER');
  const user = users.length
    ? users[users.length - 1].args.split(':')[0]
    : 'root';
  if (['root', '0', ''].includes(user)) {
    problems.push(`the final stage runs as ${user || 'root'}`);
  }
  if (finalIndex('USER') > finalIndex('CMD')) {
    problems.push('USER comes after CMD in the final stage');
  }
  const env = final.instructions
    .filter(i => i.keyword === 'ENV')
    .map(i => i.args)
    .join(' ');
  if (!/\bNODE_ENV=production\b/.test(env)) {
    problems.push('the final stage does not set NODE_ENV=production');
  }
  const required = /--require\s+(\S+?)["'\s]/.exec(`${env} `);
  if (required) {
    const target = required[1].replace(/^\/app\//, '');
    if (!fs.existsSync(path.join(root, target))) {
      problems.push(`NODE_OPTIONS requires ${target}, which does not exist`);
    }
    const copied = final.instructions.some(
      i =>
        i.keyword === 'COPY' &&
        parseCopy(i.args).sources.some(s => path.posix.normalize(s) === target),
    );
    if (!copied) problems.push(`${target} is not copied into the final stage`);
  }

  const healthchecks = final.instructions.filter(
    i => i.keyword === 'HEALTHCHECK',
  );
  if (!healthchecks.length) {
    problems.push('the final stage has no HEALTHCHECK');
  } else if (!healthchecks[healthchecks.length - 1].args.includes(LIVENESS)) {
    problems.push(`the HEALTHCHECK does not probe ${LIVENESS}`);
  }

  const cmds = final.instructions.filter(i => i.keyword === 'CMD');
  if (!cmds.length) {
    problems.push('the final stage has no CMD');
  } else {
    const last = cmds[cmds.length - 1];
    const cmd = execForm(last.args) ?? splitWords(last.args);
    if (JSON.stringify(cmd) !== JSON.stringify(EXPECTED_CMD)) {
      problems.push(
        `CMD is ${JSON.stringify(cmd)}, expected ${JSON.stringify(
          EXPECTED_CMD,
        )}`,
      );
    }
    cmd
      .filter((_, i) => cmd[i - 1] === '--config')
      .forEach(configFile => {
        if (!fs.existsSync(path.join(root, configFile))) {
          problems.push(`CMD config file ${configFile} does not exist`);
        }
        const copied = final.instructions.some(
          i =>
            i.keyword === 'COPY' &&
            parseCopy(i.args).sources.includes(configFile),
        );
        if (!copied) {
          problems.push(
            `CMD config file ${configFile} is not copied into the image`,
          );
        }
      });
  }
  return problems;
}

module.exports = {
  checkDockerfile,
  parseDockerfile,
  stagesOf,
  parseCopy,
  dockerignoreMatchers,
  ignoredBy,
};

if (require.main === module) {
  const problems = checkDockerfile(process.argv[2]);
  for (const problem of problems) console.error(`Dockerfile: ${problem}`);
  if (problems.length) process.exit(1);
  console.log('Dockerfile: ok');
}
