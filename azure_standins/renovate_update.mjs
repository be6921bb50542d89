// Drive the real Renovate's own modules against one repository the way a Renovate run on
// Azure Repos would, and print what its pull request would hold (renovate_tool.py).
// `renovate --platform=local` never updates anything, hence this script.
//
// It clones the repository as Renovate's Azure platform does (the token in an
// AUTHORIZATION header), reads its renovate.json with Renovate's config code, takes the host
// rules a self-hosted Renovate is given, then, for one manager:
// - copier: the template from .copier-answers.yml, its git tags, and `copier update`;
// - pep621: the dependencies of pyproject.toml, their newest versions on the index the
//   project names, and the update of pyproject.toml and uv.lock (`uv lock`).
//
// Usage: node renovate_update.mjs REPOSITORY_URL WORK_DIR MANAGER [--no-repo-config]
// Environment: RENOVATE_ROOT (the node_modules Renovate is in), RENOVATE_TOKEN (the
// platform's token), RENOVATE_HOST_RULES (JSON, as the global option).
// Prints one JSON object: the dependencies, the updates, and the changed files.

import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const renovate = (module) =>
  import(pathToFileURL(path.join(process.env.RENOVATE_ROOT, 'renovate', 'dist', module)).href);

// As Renovate's command does first: HTTPS_PROXY and its kin for every request.
(await renovate('proxy.js')).bootstrap();

const { GlobalConfig } = await renovate('config/global.js');
const { getConfig: defaultConfig } = await renovate('config/defaults.js');
const { getManagerConfig, mergeChildConfig } = await renovate('config/index.js');
const hostRules = await renovate('util/host-rules.js');
const git = await renovate('util/git/index.js');
const { applyPackageRules } = await renovate('util/package-rules/index.js');
const { getPkgReleases } = await renovate('modules/datasource/index.js');
const { api: pep440 } = await renovate('modules/versioning/pep440/index.js');

async function main([repositoryUrl, workDir, manager, ...flags]) {
  const localDir = path.join(workDir, 'repository');
  // What a self-hosted Renovate on Azure DevOps sets globally (docs/renovate.md: "The
  // organization's side"): scripts allowed, the tools on PATH.
  GlobalConfig.set({
    localDir,
    cacheDir: path.join(workDir, 'cache'),
    allowScripts: true,
    binarySource: 'global',
    platform: 'azure',
  });
  const token = process.env.RENOVATE_TOKEN;
  const endpoint = new URL(repositoryUrl).origin;
  hostRules.add({ hostType: 'azure', matchHost: endpoint, token });
  for (const rule of JSON.parse(process.env.RENOVATE_HOST_RULES ?? '[]')) {
    hostRules.add(rule);
  }
  fs.mkdirSync(localDir, { recursive: true });
  const header = Buffer.from(`:${token}`).toString('base64');
  await git.initRepo({
    url: repositoryUrl,
    extraCloneOpts: { '-c': `http.extraHeader=AUTHORIZATION: basic ${header}` },
  });
  await git.syncGit();

  let config = defaultConfig();
  if (!flags.includes('--no-repo-config')) {
    const repoConfig = JSON.parse(fs.readFileSync(path.join(localDir, 'renovate.json'), 'utf8'));
    config = mergeChildConfig(config, repoConfig);
    for (const rule of repoConfig.hostRules ?? []) {
      hostRules.add(rule);
    }
  }
  const managerConfig = getManagerConfig(config, manager);
  const result = await { copier, pep621 }[manager](localDir, managerConfig);
  // File contents come back as Buffers: give them as text.
  for (const item of result?.files ?? []) {
    if (item.file?.contents) {
      item.file.contents = item.file.contents.toString();
    }
  }
  console.log(JSON.stringify(result));
}

async function copier(localDir, managerConfig) {
  const { extractPackageFile } = await renovate('modules/manager/copier/extract.js');
  const { updateArtifacts } = await renovate('modules/manager/copier/artifacts.js');
  const answersFile = '.copier-answers.yml';
  const content = fs.readFileSync(path.join(localDir, answersFile), 'utf8');
  const extracted = extractPackageFile(content, answersFile);
  if (!extracted) {
    return { dependency: null };
  }
  const [dependency] = extracted.deps;
  const found = await getPkgReleases({
    datasource: dependency.datasource,
    packageName: dependency.packageName,
    versioning: 'pep440',
  });
  const versions = (found?.releases ?? []).map((release) => release.version);
  const newer = versions
    .filter((version) => pep440.isVersion(version))
    .filter((version) => pep440.isGreaterThan(version, dependency.currentValue))
    .sort((a, b) => pep440.sortVersions(a, b));
  const newVersion = newer.at(-1) ?? null;
  const rules = await applyPackageRules({ ...managerConfig, ...dependency, manager: 'copier' });
  const files = newVersion
    ? await updateArtifacts({
        packageFileName: answersFile,
        updatedDeps: [{ ...dependency, newVersion, newValue: newVersion }],
        newPackageFileContent: content,
        config: rules,
      })
    : null;
  return {
    dependency,
    versions,
    newVersion,
    ignoreScripts: rules.ignoreScripts,
    groupName: rules.groupName ?? null,
    files,
  };
}

async function pep621(localDir, managerConfig) {
  const { extractPackageFile } = await renovate('modules/manager/pep621/extract.js');
  const { updateArtifacts } = await renovate('modules/manager/pep621/artifacts.js');
  const { lookupUpdates } = await renovate('workers/repository/process/lookup/index.js');
  const { doAutoReplace } = await renovate('workers/repository/update/branch/auto-replace.js');
  const packageFile = 'pyproject.toml';
  const content = fs.readFileSync(path.join(localDir, packageFile), 'utf8');
  const extracted = await extractPackageFile(content, packageFile, managerConfig);
  const dependencies = [];
  const upgrades = [];
  for (const [depIndex, dep] of (extracted?.deps ?? []).entries()) {
    const config = await applyPackageRules({
      ...managerConfig,
      ...dep,
      depIndex,
      registryUrls: dep.registryUrls ?? extracted.registryUrls,
      manager: 'pep621',
      packageFile,
    });
    const seen = {
      depName: dep.depName ?? dep.packageName,
      depType: dep.depType,
      currentValue: dep.currentValue,
      enabled: config.enabled,
    };
    dependencies.push(seen);
    if (config.enabled === false || dep.skipReason) {
      continue;
    }
    // A failed lookup is a warning of the run, as in Renovate's own.
    const { val: lookup, err } = (await lookupUpdates(config)).unwrap();
    if (err) {
      seen.warnings = [String(err)];
      continue;
    }
    seen.warnings = lookup.warnings;
    seen.versions = lookup.updates.map((update) => update.newVersion);
    const [update] = lookup.updates;
    if (update) {
      upgrades.push({ ...config, ...update, groupName: config.groupName ?? null });
    }
  }
  // One branch for the group: every upgrade applied to pyproject.toml, then uv.lock.
  // (An update within the range changes only uv.lock.)
  let newContent = content;
  for (const upgrade of upgrades.filter((u) => u.newValue && u.newValue !== u.currentValue)) {
    newContent = await doAutoReplace(upgrade, newContent, false);
  }
  const files = upgrades.length
    ? await updateArtifacts({
        packageFileName: packageFile,
        updatedDeps: upgrades,
        newPackageFileContent: newContent,
        config: { ...managerConfig, ...upgrades[0] },
      })
    : null;
  return {
    dependencies,
    upgrades: upgrades.map(({ depName, currentValue, newValue, newVersion, groupName }) => ({
      depName,
      currentValue,
      newValue,
      newVersion,
      groupName,
    })),
    packageFile: newContent,
    files,
  };
}

await main(process.argv.slice(2)).catch((error) => {
  console.error(error);
  process.exit(1);
});
