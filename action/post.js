// The GitHub Action's post step: revokes every token this job minted (they are all in the job's
// own token cache), unless skip-token-revoke, then deletes the job's directory: the private key,
// the helper and the cache. A revoke that fails is a warning, never a failed job.
'use strict';

const fs = require('node:fs');
const { spawnSync } = require('node:child_process');
const runner = require('./runner.js');

function post() {
  const dir = runner.getState('dir');
  const bin = runner.getState('bin');
  if (!dir) return; // the main step failed before it made anything
  try {
    if (runner.getState('skip-token-revoke') === 'true') {
      runner.info('skip-token-revoke: the tokens this job minted stay valid until they expire (at most an hour)');
    } else if (bin && fs.existsSync(bin)) {
      const env = { ...process.env, ...JSON.parse(runner.getState('env') || '{}') };
      const r = spawnSync(bin, ['revoke', '--all'], { env, encoding: 'utf8' });
      if (r.stdout) process.stdout.write(r.stdout);
      if (r.error || r.status !== 0) {
        const why = r.error ? r.error.message : (r.stderr || '').trim().split('\n').pop() || `exit status ${r.status}`;
        runner.warning(`could not revoke every token this job minted: ${why}; they expire within the hour`);
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

try {
  post();
} catch (err) {
  runner.warning(`post step: ${err && err.message ? err.message : String(err)}`);
}
