#!/usr/bin/env node
/*
 * Checks deploy/azure/*.bicep without a Bicep compiler. None can be installed where CI runs:
 * Bicep is not packaged for Debian, and the npm packages around it (bicep-node) download the
 * compiler from Microsoft at run time, which this network does not reach. So this script reads
 * the files enough to catch the mistakes a compiler or a first deployment would:
 *
 * - syntax: balanced brackets, closed strings, every top-level line part of a declaration;
 * - parameters: each declared one is used; module calls pass only parameters the module
 *   declares and every one it requires; main.parameters.json (plus what deploy.sh sets)
 *   covers main.bicep's required parameters and nothing else; `x.outputs.y` names an output
 *   module x declares; names fit the module's @minLength/@maxLength and character rules;
 * - resources: types `Microsoft.Provider/type@yyyy-mm-dd[-preview]`, one apiVersion per type,
 *   a name, and a location on top-level tracked resources;
 * - secrets: secret-looking parameters are @secure(), no output uses a secure parameter, the
 *   container app's secrets are Key Vault references with the identity, secret environment
 *   variables come through secretRef and every secretRef names a secret;
 * - the container: it gets every environment variable app-config.production.yaml reads (no
 *   default), and each variable it gets is read somewhere; probes on the liveness and
 *   readiness endpoints, min/max replicas and an HTTP scaling rule.
 *
 *   node scripts/check-bicep.js     prints the problems, exits 1 when there are any
 *
 * packages/backend/src/bicep.test.ts runs it under Jest, so CI does too.
 */
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const SECRET_NAME = /(secret|password|connectionstring|key)$/i;
const SECRET_ENV = /SECRET|PASSWORD|CONNECTION_STRING/;
const TYPE_RE =
  /^Microsoft\.[A-Za-z]+\/[A-Za-z]+(\/[A-Za-z]+)*@\d{4}-\d{2}-\d{2}(-preview)?$/;

/**
 * The code of a Bicep file with comments and the literal text of strings blanked out
 * (interpolations `${...}` kept), same length and line breaks; throws on unclosed strings
 * and unbalanced brackets.
 */
function blank(text, file = 'bicep') {
  let out = '';
  let i = 0;
  const stack = [];
  const opening = { '(': ')', '[': ']', '{': '}' };
  const lineOf = at => text.slice(0, at).split('\n').length;
  const keep = c => (c === '\n' ? '\n' : ' ');
  while (i < text.length) {
    const c = text[i];
    const top = stack[stack.length - 1];
    if (top && top.string) {
      const multi = top.string === "'''";
      if (multi && text.startsWith("'''", i)) {
        stack.pop();
        out += "'''";
        i += 3;
      } else if (!multi && c === '\\') {
        out += '  ';
        i += 2;
      } else if (!multi && c === "'") {
        stack.pop();
        out += "'";
        i++;
      } else if (!multi && text.startsWith('${', i)) {
        stack.push({ close: '}', at: i, interpolation: true });
        out += '${';
        i += 2;
      } else {
        if (!multi && c === '\n') {
          throw new Error(`${file}:${lineOf(top.at)}: string not closed`);
        }
        out += keep(c);
        i++;
      }
      continue;
    }
    if (text.startsWith('//', i)) {
      while (i < text.length && text[i] !== '\n') {
        out += ' ';
        i++;
      }
    } else if (text.startsWith('/*', i)) {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) throw new Error(`${file}:${lineOf(i)}: comment not closed`);
      for (; i < end + 2; i++) out += keep(text[i]);
    } else if (text.startsWith("'''", i)) {
      stack.push({ string: "'''", at: i });
      out += "'''";
      i += 3;
    } else if (c === "'") {
      stack.push({ string: "'", at: i });
      out += "'";
      i++;
    } else if (opening[c]) {
      stack.push({ close: opening[c], at: i });
      out += c;
      i++;
    } else if (c === ')' || c === ']' || c === '}') {
      if (!top || top.close !== c) {
        throw new Error(`${file}:${lineOf(i)}: unexpected '${c}'`);
      }
      stack.pop();
      out += c;
      i++;
    } else {
      out += c;
      i++;
    }
  }
  if (stack.length) {
    const open = stack[stack.length - 1];
    throw new Error(
      `${file}:${lineOf(open.at)}: ${
        open.string ? 'string' : `'${open.close}'`
      } not closed`,
    );
  }
  return out;
}

/** Top-level declarations: params, vars, resources, modules, outputs (with decorators). */
function parseBicep(text, file = 'bicep') {
  const code = blank(text, file);
  const lines = code.split('\n');
  const raw = text.split('\n');
  const decls = [];
  let decorators = [];
  let current;
  const problems = [];
  lines.forEach((line, index) => {
    if (/^[^\s)\]}]/.test(line)) {
      const start =
        /^(@|param|var|resource|module|output|targetScope|metadata|type|func|import)\b/.exec(
          line,
        );
      if (!start) {
        problems.push(
          `${file}:${index + 1}: not a declaration: ${raw[index].trim()}`,
        );
        return;
      }
      if (start[1] === '@') {
        current = undefined;
        decorators.push({ line: index + 1, code: line, raw: raw[index] });
        current = decorators[decorators.length - 1];
        current.kind = 'decorator';
        return;
      }
      current = {
        kind: start[1],
        line: index + 1,
        code: line,
        raw: raw[index],
        decorators: decorators.map(d => d.raw.trim()),
      };
      decorators = [];
      decls.push(current);
    } else if (current && line.trim()) {
      current.code += `\n${line}`;
      current.raw += `\n${raw[index]}`;
    }
  });
  const result = {
    file,
    code,
    problems,
    params: {},
    vars: {},
    resources: [],
    modules: [],
    outputs: {},
  };
  for (const d of decls) {
    const head = /^(\w+)\s+(\w+)/.exec(d.code);
    if (d.kind === 'param') {
      const m = /^param\s+(\w+)\s+(\w+)(\s*=\s*([\s\S]*))?$/.exec(d.raw.trim());
      if (!m) {
        problems.push(`${file}:${d.line}: cannot read the parameter`);
        continue;
      }
      const number = name => {
        const dm = new RegExp(`^@${name}\\((\\d+)\\)`).exec(
          d.decorators.find(x => x.startsWith(`@${name}(`)) ?? '',
        );
        return dm ? Number(dm[1]) : undefined;
      };
      result.params[m[1]] = {
        ...d,
        name: m[1],
        type: m[2],
        hasDefault: Boolean(m[3]),
        default: m[4],
        secure: d.decorators.some(x => x.startsWith('@secure()')),
        minLength: number('minLength'),
        maxLength: number('maxLength'),
      };
    } else if (d.kind === 'var') {
      const m = /^var\s+(\w+)\s*=\s*([\s\S]*)$/.exec(d.raw.trim());
      result.vars[m[1]] = { ...d, name: m[1], value: m[2] };
    } else if (d.kind === 'resource') {
      const m = /^resource\s+(\w+)\s+'([^']*)'\s*(existing)?\s*=/.exec(
        d.raw.trim(),
      );
      if (!m) {
        problems.push(`${file}:${d.line}: cannot read the resource`);
        continue;
      }
      result.resources.push({
        ...d,
        symbol: m[1],
        type: m[2],
        existing: Boolean(m[3]),
      });
    } else if (d.kind === 'module') {
      const m = /^module\s+(\w+)\s+'([^']*)'\s*=/.exec(d.raw.trim());
      if (!m) {
        problems.push(`${file}:${d.line}: cannot read the module`);
        continue;
      }
      result.modules.push({ ...d, symbol: m[1], path: m[2] });
    } else if (d.kind === 'output') {
      const m = /^output\s+(\w+)\s+(\w+)\s*=\s*([\s\S]*)$/.exec(d.raw.trim());
      result.outputs[m[1]] = { ...d, name: m[1], value: m[3] };
    } else if (head && d.kind === 'targetScope') {
      // nothing to check
    }
  }
  return result;
}

/** Identifiers used as values in `code` (not object keys, not after a dot). */
function usedIdentifiers(code) {
  const used = new Set();
  const re = /(^|[^.\w$])([A-Za-z_]\w*)\b(?!\s*:(?!:))/gm;
  // Object keys sit at the start of a line followed by a colon; ternaries do not.
  const lines = code.split('\n').map(l => l.replace(/^\s*'?[\w-]+'?\s*:/, ''));
  for (const line of lines) {
    let m;
    const scan = new RegExp(re.source, 'g');
    while ((m = scan.exec(line))) used.add(m[2]);
    // `a ? b : c`: the identifier before a ternary colon counts too.
    for (const t of line.matchAll(/\?\s*([A-Za-z_]\w*)\s*:/g)) used.add(t[1]);
  }
  return used;
}

/** The `params: { ... }` object of a module call: key to raw value text. */
function moduleParams(decl) {
  const raw = decl.raw;
  const start = raw.search(/\n\s*params:\s*\{/);
  if (start < 0) return {};
  const open = raw.indexOf('{', start);
  let depth = 0;
  let end = open;
  const code = blank(raw);
  for (let i = open; i < code.length; i++) {
    if (code[i] === '{' || code[i] === '[' || code[i] === '(') depth++;
    if (code[i] === '}' || code[i] === ']' || code[i] === ')') depth--;
    if (depth === 0) {
      end = i;
      break;
    }
  }
  const body = raw.slice(open + 1, end);
  const bodyCode = code.slice(open + 1, end);
  const out = {};
  const keyRe = /^ {4}(\w+):\s*/gm;
  const keys = [...bodyCode.matchAll(keyRe)];
  keys.forEach((k, i) => {
    const from = k.index + k[0].length;
    const to = i + 1 < keys.length ? keys[i + 1].index : body.length;
    out[k[1]] = body.slice(from, to).trim();
  });
  return out;
}

/**
 * The longest a string expression can be: literal characters count themselves, `${take(x, n)}`
 * counts n, a parameter its @maxLength, a variable what its own value can be. Undefined when
 * it cannot tell.
 */
function maxLength(expr, scope) {
  const s = expr.trim();
  const take = /^take\(([\s\S]*),\s*(\d+)\)$/.exec(s);
  if (take) return Number(take[2]);
  const transform = /^(?:toLower|toUpper)\(([\s\S]*)\)$/.exec(s);
  if (transform) return maxLength(transform[1], scope);
  const replace = /^replace\((\w+),\s*'[^']*',\s*''\)$/.exec(s);
  if (replace) return maxLength(replace[1], scope);
  if (/^\w+$/.test(s)) {
    if (scope.params[s]) return scope.params[s].maxLength;
    if (scope.vars[s]) return maxLength(scope.vars[s].value, scope);
    return undefined;
  }
  const literal = /^'((?:[^'\\$]|\\.|\$(?!\{)|\$\{[^}]*\})*)'$/.exec(s);
  if (!literal) return undefined;
  let total = 0;
  const parts = literal[1].split(/(\$\{[^}]*\})/);
  for (const part of parts) {
    if (part.startsWith('${')) {
      const inner = maxLength(part.slice(2, -1), scope);
      if (inner === undefined) return undefined;
      total += inner;
    } else {
      total += part.length;
    }
  }
  return total;
}

/** The literal characters of a string expression (interpolations left out). */
function literalText(expr) {
  const m = /^'([\s\S]*)'$/.exec(expr.trim());
  return m ? m[1].replace(/\$\{[^}]*\}/g, '') : '';
}

/** `${VAR}` (required) and `${VAR:-default}` (optional) references of a config file. */
function configEnv(text) {
  const required = new Set();
  const optional = new Set();
  for (const m of text.matchAll(/\$\{(\w+)(:-[^}]*)?\}/g)) {
    (m[2] ? optional : required).add(m[1]);
  }
  return { required, optional };
}

/** Every file below `dir` whose name ends with one of `exts`, node_modules left out. */
function sourceFiles(dir, exts, out = []) {
  if (!fs.existsSync(dir)) return out;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist') continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) sourceFiles(full, exts, out);
    else if (exts.some(e => entry.name.endsWith(e))) out.push(full);
  }
  return out;
}

/**
 * Checks deploy/azure under `root` (or `dir`, a copy of it, against `root`'s config files and
 * sources); returns the problems (empty when all is well).
 */
function checkBicep(
  root = path.resolve(__dirname, '..'),
  dir = path.join(root, 'deploy/azure'),
) {
  const problems = [];
  const files = {};
  const load = relative => {
    const full = path.join(dir, relative);
    if (files[relative]) return files[relative];
    if (!fs.existsSync(full)) return undefined;
    try {
      files[relative] = parseBicep(fs.readFileSync(full, 'utf8'), relative);
      problems.push(...files[relative].problems);
    } catch (e) {
      problems.push(e.message);
      files[relative] = undefined;
    }
    return files[relative];
  };
  const main = load('main.bicep');
  if (!main)
    return problems.length ? problems : ['deploy/azure/main.bicep is missing'];
  for (const f of sourceFiles(path.join(dir, 'modules'), ['.bicep'])) {
    load(path.relative(dir, f));
  }

  const apiVersions = {};
  for (const bicep of Object.values(files).filter(Boolean)) {
    const f = bicep.file;
    // Parameters are used.
    const body = [
      ...Object.values(bicep.vars),
      ...Object.values(bicep.outputs),
      ...bicep.resources,
      ...bicep.modules,
    ]
      .map(d => d.code)
      .join('\n');
    const paramDefaults = Object.values(bicep.params)
      .map(p => (p.hasDefault ? p.code.replace(/^param\s+\w+\s+\w+/, '') : ''))
      .join('\n');
    const used = usedIdentifiers(`${body}\n${paramDefaults}`);
    for (const p of Object.values(bicep.params)) {
      if (!used.has(p.name))
        problems.push(`${f}: parameter ${p.name} is never used`);
      if (SECRET_NAME.test(p.name) && !p.secure) {
        problems.push(
          `${f}: parameter ${p.name} looks secret but is not @secure()`,
        );
      }
      if (!p.decorators.some(d => d.startsWith('@description('))) {
        problems.push(`${f}: parameter ${p.name} has no @description`);
      }
    }
    for (const v of Object.values(bicep.vars)) {
      if (!used.has(v.name))
        problems.push(`${f}: variable ${v.name} is never used`);
    }
    // Outputs carry no secure parameter.
    const secure = Object.values(bicep.params).filter(p => p.secure);
    for (const o of Object.values(bicep.outputs)) {
      const ids = usedIdentifiers(blank(o.value));
      for (const p of secure) {
        if (ids.has(p.name)) {
          problems.push(
            `${f}: output ${o.name} exposes the secure parameter ${p.name}`,
          );
        }
      }
      if (/listKeys\(|ConnectionString|primarySharedKey/.test(o.value)) {
        problems.push(
          `${f}: output ${o.name} exposes a key or connection string`,
        );
      }
    }
    // Resources.
    for (const r of bicep.resources) {
      if (!TYPE_RE.test(r.type)) {
        problems.push(
          `${f}:${r.line}: resource type '${r.type}' is not Microsoft.Provider/type@yyyy-mm-dd`,
        );
        continue;
      }
      const [type, apiVersion] = r.type.split('@');
      const date = new Date(apiVersion.slice(0, 10));
      if (Number.isNaN(date.getTime()) || date > new Date()) {
        problems.push(
          `${f}:${r.line}: apiVersion ${apiVersion} is not a real past date`,
        );
      }
      apiVersions[type] = apiVersions[type] ?? new Map();
      apiVersions[type].set(apiVersion, `${f}:${r.line}`);
      if (!/\n\s*name:\s*\S/.test(r.code)) {
        problems.push(`${f}:${r.line}: resource ${r.symbol} has no name`);
      }
      const child = type.split('/').length > 2;
      const extension = type.startsWith('Microsoft.Authorization/');
      if (
        !r.existing &&
        !child &&
        !extension &&
        !/\n\s*location:\s*\S/.test(r.code)
      ) {
        problems.push(`${f}:${r.line}: resource ${r.symbol} has no location`);
      }
    }
    // Modules.
    for (const m of bicep.modules) {
      const target = path.posix.join(path.posix.dirname(f), m.path);
      const mod = load(target);
      if (!mod) {
        problems.push(`${f}:${m.line}: module ${m.path} does not exist`);
        continue;
      }
      const passed = moduleParams(m);
      for (const name of Object.keys(passed)) {
        const declared = mod.params[name];
        if (!declared) {
          problems.push(
            `${f}:${m.line}: module ${m.symbol} passes ${name}, which ${m.path} does not declare`,
          );
          continue;
        }
        // Names against the module's length rules and the characters its resource allows.
        const longest = maxLength(passed[name], bicep);
        if (
          declared.maxLength !== undefined &&
          longest !== undefined &&
          longest > declared.maxLength
        ) {
          problems.push(
            `${f}:${m.line}: ${m.symbol}.${name} can be ${longest} characters, ${m.path} allows ${declared.maxLength}`,
          );
        }
        const literal = literalText(passed[name]);
        if (
          name === 'name' &&
          /registry/.test(m.path) &&
          /[^a-z0-9]/.test(literal)
        ) {
          problems.push(
            `${f}:${m.line}: registry name '${literal}' has characters other than a-z0-9`,
          );
        }
        if (
          name === 'name' &&
          /keyvault|postgres|containerapp/.test(m.path) &&
          /[^a-z0-9-]/.test(literal)
        ) {
          problems.push(
            `${f}:${m.line}: ${m.symbol} name '${literal}' has characters other than a-z, 0-9 and -`,
          );
        }
      }
      for (const p of Object.values(mod.params)) {
        if (!p.hasDefault && !(p.name in passed)) {
          problems.push(
            `${f}:${m.line}: module ${m.symbol} does not pass ${p.name}, required by ${m.path}`,
          );
        }
      }
      // `symbol.outputs.x` names a declared output.
      for (const bicepFile of [bicep]) {
        for (const ref of bicepFile.code.matchAll(
          new RegExp(`\\b${m.symbol}\\.outputs\\.(\\w+)`, 'g'),
        )) {
          if (!mod.outputs[ref[1]]) {
            problems.push(
              `${f}: ${m.symbol}.outputs.${ref[1]} is not an output of ${m.path}`,
            );
          }
        }
      }
    }
  }
  for (const [type, versions] of Object.entries(apiVersions)) {
    if (versions.size > 1) {
      problems.push(
        `${type} is used with several apiVersions: ${[...versions.entries()]
          .map(([v, at]) => `${v} (${at})`)
          .join(', ')}`,
      );
    }
  }

  // main.parameters.json and deploy.sh cover main.bicep's parameters.
  const parametersFile = path.join(dir, 'main.parameters.json');
  if (!fs.existsSync(parametersFile)) {
    problems.push('deploy/azure/main.parameters.json is missing');
  } else {
    const given = Object.keys(
      JSON.parse(fs.readFileSync(parametersFile, 'utf8')).parameters ?? {},
    );
    const deployScript = path.join(dir, 'deploy.sh');
    const fromScript = fs.existsSync(deployScript)
      ? [
          ...fs.readFileSync(deployScript, 'utf8').matchAll(/set\('(\w+)'/g),
        ].map(m => m[1])
      : [];
    for (const name of [...given, ...fromScript]) {
      if (!main.params[name])
        problems.push(
          `main.parameters.json/deploy.sh set ${name}, which main.bicep does not declare`,
        );
    }
    for (const p of Object.values(main.params)) {
      if (
        !p.hasDefault &&
        !given.includes(p.name) &&
        !fromScript.includes(p.name)
      ) {
        problems.push(
          `main.bicep parameter ${p.name} is required but neither main.parameters.json nor deploy.sh sets it`,
        );
      }
      if (p.secure && given.includes(p.name)) {
        problems.push(
          `main.parameters.json holds the secure parameter ${p.name}`,
        );
      }
    }
  }

  // The container app.
  const appFile = Object.values(files).find(
    b =>
      b &&
      b.resources.some(r => r.type.startsWith('Microsoft.App/containerApps@')),
  );
  if (!appFile) {
    problems.push('no Microsoft.App/containerApps resource');
    return problems;
  }
  const appText = fs.readFileSync(path.join(dir, appFile.file), 'utf8');
  const appCode = appFile.code;
  const envEntries = [
    ...appText.matchAll(
      /\{\s*(?:\/\/[^\n]*\n\s*)*name:\s*'([A-Z][A-Z0-9_]*)'\s*\n\s*(value|secretRef):\s*([^\n]*)/g,
    ),
  ].map(m => ({
    name: m[1],
    via: m[2],
    value: m[3].trim(),
  }));
  const secretNames = new Set();
  for (const m of appText.matchAll(
    /\{\s*name:\s*'([a-z0-9-]+)'\s*\n\s*(keyVaultUrl|value):[^\n]*\n\s*(identity:)?/g,
  )) {
    secretNames.add(m[1]);
    if (m[2] !== 'keyVaultUrl')
      problems.push(
        `${appFile.file}: secret ${m[1]} is a value, not a Key Vault reference`,
      );
    else if (!m[3])
      problems.push(
        `${appFile.file}: secret ${m[1]} has no identity to read Key Vault with`,
      );
  }
  for (const e of envEntries) {
    if (e.via === 'secretRef') {
      const ref = /^'([^']+)'$/.exec(e.value)?.[1];
      if (!ref || !secretNames.has(ref))
        problems.push(
          `${appFile.file}: ${e.name} refers to secret ${e.value}, which the app does not declare`,
        );
    } else if (SECRET_ENV.test(e.name)) {
      problems.push(
        `${appFile.file}: ${e.name} is a plain value; secrets come through secretRef`,
      );
    }
  }
  const containerEnv = new Set(envEntries.map(e => e.name));
  const configs = ['app-config.production.yaml'];
  for (const m of appText.matchAll(/'(app-config\.[\w.-]+\.yaml)'/g)) {
    if (!configs.includes(m[1])) configs.push(m[1]);
  }
  const readByConfig = new Set();
  for (const config of configs) {
    const file = path.join(root, config);
    if (!fs.existsSync(file)) {
      problems.push(
        `${appFile.file}: the container loads ${config}, which does not exist`,
      );
      continue;
    }
    const { required, optional } = configEnv(fs.readFileSync(file, 'utf8'));
    for (const name of required) {
      readByConfig.add(name);
      // Both database modes are in the file: together they must set every variable.
      if (!containerEnv.has(name)) {
        problems.push(
          `${config} reads \${${name}}, which the container app does not set`,
        );
      }
    }
    optional.forEach(n => readByConfig.add(n));
  }
  const sources = [
    ...sourceFiles(path.join(root, 'packages/backend/src'), ['.ts', '.js']),
    ...sourceFiles(path.join(root, 'plugins'), ['.ts', '.js']),
  ]
    .filter(f => !/\.test\.[tj]s$/.test(f))
    .map(f => fs.readFileSync(f, 'utf8'))
    .join('\n');
  for (const name of containerEnv) {
    if (!readByConfig.has(name) && !new RegExp(`\\b${name}\\b`).test(sources)) {
      problems.push(
        `${appFile.file}: the container gets ${name}, which no config file or source reads`,
      );
    }
  }
  for (const [type, probePath] of [
    ['Liveness', '/.backstage/health/v1/liveness'],
    ['Readiness', '/.backstage/health/v1/readiness'],
  ]) {
    const probe = new RegExp(
      `type:\\s*'${type}'\\s*\\n\\s*httpGet:\\s*\\{\\s*\\n\\s*path:\\s*'([^']*)'`,
    ).exec(appText);
    if (!probe) problems.push(`${appFile.file}: no ${type} probe`);
    else if (probe[1] !== probePath)
      problems.push(
        `${appFile.file}: the ${type} probe checks ${probe[1]}, not ${probePath}`,
      );
  }
  for (const [what, re] of [
    ['minReplicas', /\n\s*minReplicas:\s*\S/],
    ['maxReplicas', /\n\s*maxReplicas:\s*\S/],
    [
      'HTTP scaling rule',
      /\n\s*http:\s*\{\s*\n\s*metadata:\s*\{\s*\n\s*concurrentRequests:/,
    ],
    ['ingress', /\n\s*ingress:\s*\{/],
    [
      'registry pulled with the identity',
      /registries:\s*\[\s*\{\s*\n\s*server:[^\n]*\n\s*identity:/,
    ],
    ['user-assigned identity', /type:\s*'UserAssigned'/],
  ]) {
    if (!re.test(appText)) problems.push(`${appFile.file}: no ${what}`);
  }
  if (!/allowInsecure:\s*false/.test(appCode)) {
    problems.push(`${appFile.file}: ingress must not allow plain HTTP`);
  }
  return problems;
}

module.exports = { checkBicep, parseBicep, blank, maxLength, configEnv };

if (require.main === module) {
  const problems = checkBicep(process.argv[2]);
  for (const problem of problems) console.error(`bicep: ${problem}`);
  if (problems.length) process.exit(1);
  console.log('bicep: ok');
}
