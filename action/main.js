// The GitHub Action's main step: gets the helper, mints the token the outputs promise, and
// configures git for the rest of the job, so that every later git (and go, git-lfs, ...) step gets
// a fresh token for the repository it touches, for as long as the job runs.
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const runner = require('./runner.js');

const exe = process.platform === 'win32' ? '.exe' : '';
const root = path.resolve(process.env.GITHUB_ACTION_PATH || path.join(__dirname, '..'));

// gitHost derives the git host from the REST API URL: api.github.com -> github.com,
// api.SUBDOMAIN.ghe.com -> SUBDOMAIN.ghe.com, https://HOST/api/v3 -> HOST (GitHub Enterprise Server).
function gitHost(apiURL) {
  let u;
  try {
    u = new URL(apiURL);
  } catch {
    throw new Error(`github-api-url "${apiURL}" is not a URL`);
  }
  if (u.protocol !== 'https:') throw new Error(`github-api-url "${apiURL}" must start with https://`);
  const host = u.host.toLowerCase();
  if (host === 'api.github.com') return 'github.com';
  const m = /^api\.([a-z0-9-]+\.ghe\.com)$/.exec(host);
  if (m) return m[1];
  if (u.pathname.replace(/\/+$/, '') === '/api/v3') return host;
  throw new Error(`cannot tell the git host from github-api-url "${apiURL}" (expected https://api.github.com, https://api.NAME.ghe.com or https://HOST/api/v3)`);
}

// readKey turns the private-key input into PEM: as GitHub downloads it, with literal \n
// escapes (a secret pasted on one line), or base64-encoded.
function readKey(raw) {
  let k = raw.trim();
  if (k.includes('\\n')) k = k.replace(/\\r/g, '').replace(/\\n/g, '\n');
  if (!k.includes('-----BEGIN')) {
    const decoded = Buffer.from(k.replace(/\s+/g, ''), 'base64').toString('utf8');
    if (decoded.includes('-----BEGIN')) k = decoded.trim();
  }
  if (!k.includes('-----BEGIN')) {
    throw new Error('private-key is not a PEM private key (paste the whole .pem file GitHub gave you, BEGIN and END lines included)');
  }
  return k + '\n';
}

// permissions reads the permission-<name> inputs as "name:level,..." (the helper's --permissions).
function permissions() {
  const out = [];
  for (const [name, level] of runner.inputsWithPrefix('permission-')) {
    const perm = name.slice('permission-'.length).replace(/-/g, '_');
    if (!/^(read|write|admin)$/.test(level)) {
      throw new Error(`input ${name}: "${level}" is not a permission level (read, write or admin)`);
    }
    out.push(`${perm}:${level}`);
  }
  return out.join(',');
}

// scope works out owner and repositories as actions/create-github-app-token does: neither given,
// the current repository; only repositories, the current owner's; only owner, all of its
// installation's repositories.
function scope() {
  let owner = runner.input('owner');
  let repos = runner.input('repositories').split(/[\n,]+/).map((s) => s.trim()).filter(Boolean);
  const current = process.env.GITHUB_REPOSITORY || '';
  if (!owner && repos.length === 0) {
    const [o, r] = current.split('/');
    if (!o || !r) throw new Error('owner is not set and GITHUB_REPOSITORY does not name the current repository');
    owner = o;
    repos = [r];
  } else if (!owner) {
    owner = process.env.GITHUB_REPOSITORY_OWNER || current.split('/')[0];
    if (!owner) throw new Error('repositories needs owner (GITHUB_REPOSITORY_OWNER is not set)');
  }
  repos = repos.map((r) => {
    const i = r.indexOf('/');
    if (i < 0) return r;
    if (r.slice(0, i).toLowerCase() !== owner.toLowerCase()) {
      throw new Error(`repositories: ${r} is not a repository of ${owner} (one owner per step)`);
    }
    return r.slice(i + 1);
  });
  return { owner, repos };
}

function run(file, args, opts = {}) {
  return spawnSync(file, args, { encoding: 'utf8', maxBuffer: 16 << 20, ...opts });
}

function hasGo() {
  const r = run('go', ['version']);
  return r.status === 0;
}

// buildHelper builds every command of this checkout of the action (the front and the full helper)
// into binDir, static, as install.sh does.
function buildHelper(binDir, version) {
  runner.info(`building git-credential-ghapp ${version} from ${root} with ${run('go', ['version']).stdout.trim()}`);
  const r = run('go', ['build', '-trimpath', '-ldflags', `-s -w -X main.version=${version}`, '-o', binDir + path.sep, './cmd/...'], {
    cwd: root,
    env: { ...process.env, CGO_ENABLED: '0' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`go build in ${root} failed (see above)`);
}

// downloadHelper fetches this release's archive for the runner's platform and checks it against
// the release's SHA256SUMS before unpacking it into binDir.
async function downloadHelper(binDir, version) {
  const repo = process.env.GITHUB_ACTION_REPOSITORY;
  if (!/^v\d+\.\d+\.\d+$/.test(version) || !repo) {
    throw new Error(`Go is not on PATH and the action is not pinned to a release tag (vX.Y.Z; it runs at "${version}"): add actions/setup-go before this step, or use a release tag`);
  }
  const goos = { linux: 'linux', darwin: 'darwin', win32: 'windows' }[process.platform];
  const goarch = { x64: 'amd64', arm64: 'arm64' }[process.arch];
  if (!goos || !goarch) throw new Error(`no release archive for ${process.platform}/${process.arch}: add actions/setup-go before this step`);
  const name = `git-credential-ghapp_${version}_${goos}_${goarch}.${goos === 'windows' ? 'zip' : 'tar.gz'}`;
  const base = `${process.env.GITHUB_SERVER_URL || 'https://github.com'}/${repo}/releases/download/${version}/`;
  const get = async (file) => {
    const res = await fetch(base + file);
    if (!res.ok) throw new Error(`download ${base + file}: HTTP ${res.status}`);
    return Buffer.from(await res.arrayBuffer());
  };
  runner.info(`downloading ${base + name}`);
  const [archive, sums] = await Promise.all([get(name), get('SHA256SUMS')]);
  const want = sums.toString('utf8').split('\n').map((l) => l.trim().split(/\s+/)).find((f) => f[1] === name);
  const got = crypto.createHash('sha256').update(archive).digest('hex');
  if (!want || want[0] !== got) throw new Error(`${name} does not match the release's SHA256SUMS (got sha256 ${got})`);
  const file = path.join(path.dirname(binDir), name);
  fs.writeFileSync(file, archive);
  const r = run('tar', ['-xf', file, '-C', path.dirname(binDir)], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`cannot unpack ${name}`);
  const unpacked = path.join(path.dirname(binDir), name.replace(/\.(tar\.gz|zip)$/, ''), 'bin');
  for (const f of fs.readdirSync(unpacked)) fs.renameSync(path.join(unpacked, f), path.join(binDir, f));
}

// gitVersionOK reports whether git reads configuration from GIT_CONFIG_COUNT (git 2.31).
function gitVersionOK() {
  const m = /(\d+)\.(\d+)/.exec(run('git', ['--version']).stdout || '');
  return m && (Number(m[1]) > 2 || (Number(m[1]) === 2 && Number(m[2]) >= 31));
}

// persistedAuthHeaders finds http.<url>.extraheader lines with an Authorization header for host,
// as actions/checkout writes them with persist-credentials: true (in .git/config, or in a file
// under RUNNER_TEMP that .git/config pulls in with includeIf), in the workspace's repository and
// those one level below it. git sends such a header on every request, before it asks any
// credential helper, so the header's token silently wins. Only keys and origins are returned;
// the header's value (a token) is never read into a message.
function persistedAuthHeaders(host) {
  const ws = process.env.GITHUB_WORKSPACE;
  if (!ws || !fs.existsSync(ws)) return [];
  const dirs = [ws];
  for (const d of fs.readdirSync(ws, { withFileTypes: true })) {
    if (d.isDirectory() && fs.existsSync(path.join(ws, d.name, '.git'))) dirs.push(path.join(ws, d.name));
  }
  const found = new Map();
  for (const dir of dirs) {
    const r = run('git', ['config', '--show-origin', '-z', '--get-regexp', '^http\\..*\\.extraheader$'], { cwd: dir });
    if (r.status !== 0) continue;
    const f = r.stdout.split('\0');
    for (let i = 0; i + 1 < f.length; i += 2) {
      const origin = f[i];
      const nl = f[i + 1].indexOf('\n');
      const key = nl < 0 ? f[i + 1] : f[i + 1].slice(0, nl);
      const value = nl < 0 ? '' : f[i + 1].slice(nl + 1);
      if (value.split(':')[0].trim().toLowerCase() !== 'authorization') continue;
      const url = key.slice('http.'.length, key.length - '.extraheader'.length);
      let urlHost = '';
      try {
        urlHost = new URL(url).host.toLowerCase();
      } catch {
        continue;
      }
      if (urlHost === host && !found.has(key)) found.set(key, origin.replace(/^file:/, ''));
    }
  }
  return [...found].map(([key, origin]) => ({ key, origin }));
}

async function main() {
  const appId = runner.input('client-id') || runner.input('app-id');
  if (!appId) throw new Error('give client-id (or app-id): the GitHub App\'s Client ID or App ID');
  const rawKey = process.env['INPUT_PRIVATE-KEY'] || '';
  const signer = runner.input('signer');
  if (!rawKey.trim() && !signer) throw new Error('give private-key (the app\'s .pem, from a secret) or signer');
  if (rawKey.trim() && signer) throw new Error('give private-key or signer, not both');
  if (rawKey.trim()) runner.mask(rawKey);
  const { owner, repos } = scope();
  const perms = permissions();
  const skipRevoke = runner.booleanInput('skip-token-revoke', false);
  const apiURL = (runner.input('github-api-url') || process.env.GITHUB_API_URL || 'https://api.github.com').replace(/\/+$/, '');
  const host = gitHost(apiURL);
  if (!gitVersionOK()) throw new Error('git 2.31 or newer is needed (the action configures git through GIT_CONFIG_COUNT)');

  // Everything of this job's lives in one directory only this user can read: the key, the
  // helper, and the token cache (so the post step revokes what this job minted, and nothing of
  // another job's on a shared self-hosted runner).
  const dir = fs.mkdtempSync(path.join(process.env.RUNNER_TEMP || os.tmpdir(), 'git-credential-ghapp-'));
  fs.chmodSync(dir, 0o700);
  runner.saveState('dir', dir);
  runner.saveState('skip-token-revoke', String(skipRevoke));
  const binDir = path.join(dir, 'bin');
  const cacheDir = path.join(dir, 'cache');
  fs.mkdirSync(binDir, { mode: 0o700 });
  fs.mkdirSync(cacheDir, { mode: 0o700 });

  const env = { GHAPP_APP_ID: appId, GHAPP_HOSTNAME: host, GHAPP_API_URL: apiURL, GHAPP_OWNER: owner, GHAPP_CACHE_DIR: cacheDir };
  if (signer) env.GHAPP_SIGNER = signer;
  if (rawKey.trim()) {
    const keyFile = path.join(dir, 'private-key.pem');
    fs.writeFileSync(keyFile, readKey(rawKey), { mode: 0o600, flag: 'wx' });
    env.GHAPP_PRIVATE_KEY_FILE = keyFile;
  }

  runner.saveState('env', JSON.stringify(env)); // names and paths, no secret
  const version = process.env.GITHUB_ACTION_REF || 'devel';
  if (hasGo()) buildHelper(binDir, version);
  else await downloadHelper(binDir, version);
  const bin = path.join(binDir, 'git-credential-ghapp' + exe);
  if (!fs.existsSync(bin)) throw new Error(`no helper at ${bin} after the build`);
  runner.saveState('bin', bin);

  const helper = (args) => {
    const r = run(bin, args, { env: { ...process.env, ...env } });
    if (r.stderr) process.stderr.write(r.stderr);
    return r;
  };

  // The token the outputs promise, cached in the job's cache like every token git will get: one
  // token covering every repository listed (token OWNER/A OWNER/B ...), as
  // create-github-app-token mints one for its whole list, or owner's installation (which the
  // helper gives only when asked by name: --scope installation).
  const targets = repos.length > 0 ? repos.map((r) => `${owner}/${r}`) : [owner, '--scope', 'installation'];
  // permission-* narrow this token, as they narrow create-github-app-token's; git's tokens carry
  // the installation's permissions for the one repository each covers (a clone needs contents,
  // whatever the token output is for).
  const tr = helper(['token', ...targets, '--json', ...(perms ? ['--permissions', perms] : [])]);
  if (tr.status !== 0) throw new Error(`cannot get a token for ${repos.length > 0 ? targets.join(', ') : owner} (see the line above)`);
  const tok = JSON.parse(tr.stdout);
  runner.mask(tok.token);
  runner.setOutput('token', tok.token);
  runner.setOutput('installation-id', String(tok.installation_id));

  const ir = helper(['identity', '--json']);
  if (ir.status === 0) {
    const id = JSON.parse(ir.stdout);
    runner.setOutput('app-slug', id.app_slug);
    runner.setOutput('user-id', String(id.user_id));
    runner.setOutput('commit-name', id.name);
    runner.setOutput('commit-email', id.email);
  } else {
    runner.warning('cannot look up the app\'s bot user: app-slug, user-id, commit-name and commit-email are empty (see the line above)');
  }

  // git, for the rest of the job: through GIT_CONFIG_COUNT (git's command-line scope, read after
  // every config file), so nothing is written to a file that outlives the job, and the empty
  // helper line drops whatever helpers the runner's config had for the host.
  for (const [k, v] of Object.entries(env)) runner.exportVariable(k, v);
  runner.addPath(binDir);
  let n = parseInt(process.env.GIT_CONFIG_COUNT || '0', 10) || 0;
  const setGit = (key, value) => {
    runner.exportVariable(`GIT_CONFIG_KEY_${n}`, key);
    runner.exportVariable(`GIT_CONFIG_VALUE_${n}`, value);
    n++;
  };
  // git runs an absolute helper path through the shell: forward slashes (Git for Windows takes
  // them), and PATH's "ghapp" when the path has characters the shell would read.
  const binForGit = bin.split(path.sep).join('/');
  const helperValue = /^[A-Za-z0-9_./:+-]+$/.test(binForGit) ? binForGit : 'ghapp';
  setGit(`credential.https://${host}.helper`, '');
  setGit(`credential.https://${host}.helper`, helperValue);
  setGit(`credential.https://${host}.useHttpPath`, 'true');
  let headers = [];
  try {
    headers = persistedAuthHeaders(host);
  } catch (err) {
    runner.warning(`cannot look for actions/checkout's persisted credentials: ${err.message}`);
  }
  for (const h of headers) {
    runner.warning(`actions/checkout left an Authorization header in git's config (${h.key} in ${h.origin}): git sends it before asking any credential helper, so later steps would authenticate as the job's GITHUB_TOKEN, not as the app. This action resets it for the rest of the job; to not write it at all, give actions/checkout "persist-credentials: false".`);
    setGit(h.key, '');
  }
  runner.exportVariable('GIT_CONFIG_COUNT', String(n));
  runner.info(`git now authenticates to https://${host}/ as the app${tok.installation_id ? ` (installation ${tok.installation_id})` : ''}, with a fresh token per repository for the rest of the job`);
}

main().catch((err) => runner.fail(err && err.message ? err.message : String(err)));
