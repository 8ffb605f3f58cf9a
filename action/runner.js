// The GitHub Actions runner's protocol, spoken directly (no npm dependencies): inputs come in
// INPUT_* variables; outputs, state for the post step, environment and PATH for later steps go
// to the files named by GITHUB_OUTPUT, GITHUB_STATE, GITHUB_ENV and GITHUB_PATH; masks and
// annotations are workflow commands on stdout.
//
// Formats (docs.github.com, "Workflow commands for GitHub Actions"; actions/toolkit
// packages/core): a file command is "NAME<<DELIMITER\nVALUE\nDELIMITER\n" appended to the file,
// with a random delimiter that the value must not contain; the post step receives each saved
// state NAME as STATE_NAME; a workflow command is "::COMMAND::MESSAGE" with %, CR and LF in the
// message escaped as %25, %0D and %0A.
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');

// input returns the input NAME as the runner passes it: INPUT_ + the name upper-cased with spaces
// as underscores (hyphens stay), trimmed; "" when unset.
function input(name) {
  const v = process.env['INPUT_' + name.replace(/ /g, '_').toUpperCase()];
  return (v || '').trim();
}

// inputsWithPrefix returns every input whose name starts with prefix, as [name, value] pairs
// with a non-empty value, in name order.
function inputsWithPrefix(prefix) {
  const p = 'INPUT_' + prefix.toUpperCase();
  return Object.keys(process.env)
    .filter((k) => k.startsWith(p) && (process.env[k] || '').trim() !== '')
    .sort()
    .map((k) => [k.slice('INPUT_'.length).toLowerCase(), process.env[k].trim()]);
}

// booleanInput reads a YAML 1.2 core-schema boolean, as the toolkit's getBooleanInput does.
function booleanInput(name, dflt) {
  const v = input(name);
  if (v === '') return dflt;
  if (['true', 'True', 'TRUE'].includes(v)) return true;
  if (['false', 'False', 'FALSE'].includes(v)) return false;
  throw new Error(`input ${name}: "${v}" is not a boolean (true or false)`);
}

function escapeData(s) {
  return String(s).replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

// command writes a workflow command on stdout.
function command(name, message) {
  process.stdout.write(`::${name}::${escapeData(message)}${os.EOL}`);
}

// mask tells the runner to hide value (each of its lines) in the logs from now on.
function mask(value) {
  for (const line of String(value).split(/\r?\n/)) {
    if (line.trim() !== '') command('add-mask', line);
  }
}

function warning(message) {
  command('warning', message);
}

function info(message) {
  process.stdout.write(message + os.EOL);
}

// fileCommand appends NAME<<DELIMITER ... to the file the runner named in GITHUB_<kind>.
function fileCommand(kind, name, value) {
  const file = process.env['GITHUB_' + kind];
  if (!file) throw new Error(`GITHUB_${kind} is not set: run this as a step of a GitHub Actions job`);
  value = String(value);
  const delimiter = 'ghadelimiter_' + crypto.randomUUID();
  if (name.includes(delimiter) || value.includes(delimiter)) {
    throw new Error(`unexpected input: the ${kind.toLowerCase()} ${name} contains the delimiter`);
  }
  fs.appendFileSync(file, `${name}<<${delimiter}${os.EOL}${value}${os.EOL}${delimiter}${os.EOL}`, { encoding: 'utf8' });
}

const setOutput = (name, value) => fileCommand('OUTPUT', name, value);
const saveState = (name, value) => fileCommand('STATE', name, value);
const exportVariable = (name, value) => {
  fileCommand('ENV', name, value);
  process.env[name] = String(value);
};

// getState returns what the main step saved with saveState(name), in the post step.
function getState(name) {
  return process.env['STATE_' + name] || '';
}

// addPath puts dir in front of PATH for the later steps (and this one).
function addPath(dir) {
  const file = process.env.GITHUB_PATH;
  if (!file) throw new Error('GITHUB_PATH is not set: run this as a step of a GitHub Actions job');
  fs.appendFileSync(file, dir + os.EOL, { encoding: 'utf8' });
  process.env.PATH = dir + require('node:path').delimiter + (process.env.PATH || '');
}

// fail ends the step with an error annotation.
function fail(message) {
  command('error', message);
  process.exitCode = 1;
}

module.exports = {
  input, inputsWithPrefix, booleanInput, mask, warning, info, setOutput, saveState, getState,
  exportVariable, addPath, fail, command,
};
