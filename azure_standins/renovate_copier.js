// Drive Renovate's own copier manager against one repository, offline, the way a Renovate
// run on Azure Repos would: clone the repository, read its Renovate config with Renovate's
// config code, extract the template dependency from .copier-answers.yml, look up the
// template's git tags, and run the update (`copier update ... --vcs-ref <newest tag>`).
// `renovate --platform=local` never runs updates, hence this script (renovate_tool.py).
//
// Usage: node renovate_copier.js REPOSITORY_URL WORK_DIR [--no-repo-config]
// Prints one JSON object: the dependency, the versions found, the update and the files.

const fs = require('node:fs');
const path = require('node:path');

const { GlobalConfig } = require('renovate/dist/config/global');
const { getConfig: defaultConfig } = require('renovate/dist/config/defaults');
const { getManagerConfig, mergeChildConfig } = require('renovate/dist/config');
const git = require('renovate/dist/util/git');
const { applyPackageRules } = require('renovate/dist/util/package-rules');
const { extractPackageFile } = require('renovate/dist/modules/manager/copier/extract');
const { updateArtifacts } = require('renovate/dist/modules/manager/copier/artifacts');
const { getPkgReleases } = require('renovate/dist/modules/datasource');
const { api: pep440 } = require('renovate/dist/modules/versioning/pep440');

const ANSWERS_FILE = '.copier-answers.yml';

async function main([repositoryUrl, workDir, ...flags]) {
  const localDir = path.join(workDir, 'repository');
  // What a self-hosted Renovate on Azure DevOps sets globally (README: "Keeping every
  // project current"): scripts allowed, the copier on PATH.
  GlobalConfig.set({
    localDir,
    cacheDir: path.join(workDir, 'cache'),
    allowScripts: true,
    binarySource: 'global',
    platform: 'azure',
  });
  fs.mkdirSync(localDir, { recursive: true });
  await git.initRepo({ url: repositoryUrl });
  await git.syncGit();

  let config = defaultConfig();
  if (!flags.includes('--no-repo-config')) {
    const repoConfig = JSON.parse(fs.readFileSync(path.join(localDir, 'renovate.json'), 'utf8'));
    config = mergeChildConfig(config, repoConfig);
  }
  const managerConfig = getManagerConfig(config, 'copier');

  const content = fs.readFileSync(path.join(localDir, ANSWERS_FILE), 'utf8');
  const extracted = extractPackageFile(content, ANSWERS_FILE);
  if (!extracted) {
    console.log(JSON.stringify({ dependency: null }));
    return;
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

  let files = null;
  if (newVersion) {
    files = await updateArtifacts({
      packageFileName: ANSWERS_FILE,
      updatedDeps: [{ ...dependency, newVersion }],
      newPackageFileContent: content,
      config: rules,
    });
  }
  // File contents come back as Buffers: give them as text.
  for (const item of files ?? []) {
    if (item.file?.contents) {
      item.file.contents = item.file.contents.toString();
    }
  }
  console.log(
    JSON.stringify({
      dependency,
      versions,
      newVersion,
      ignoreScripts: rules.ignoreScripts,
      groupName: rules.groupName ?? null,
      files,
    }),
  );
}

main(process.argv.slice(2)).catch((error) => {
  console.error(error);
  process.exit(1);
});
