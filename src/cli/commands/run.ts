// `gust run`: a repository's pipelines on this machine, as local processes, with no server and no
// database — the same plan and rules `gust serve` uses.
import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, homedir, tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { randomBytes } from "node:crypto";
import { PipelineRunner, type PipelineResult, type RunnerEvent } from "../../app/pipeline-runner";
import type { WorkspaceSource } from "../../executors/executor";
import { SecretMasker } from "../../logs/secret-masker";
import { defaultPipelineName, parsePipeline, planPipeline, type Plan } from "../../pipeline";
import { keyValues, parseCommandArgs, positiveInt, UsageError } from "../args";
import type { CliContext } from "../context";
import { readFileSync } from "node:fs";
import { ConfigError, loadConfig, type GustConfig } from "../../config";
import { EVENT_HELP, EVENT_OPTIONS, eventContext } from "../event-options";
import { pipelineTextsAtCommit, repositoryState, resolveCommit } from "../git-info";
import { JsonReporter } from "../output/json-reporter";
import { PrettyReporter } from "../output/pretty-reporter";
import { printDiagnostics } from "../output/print-diagnostics";
import { summaryTable } from "../output/summary-table";
import { loadPipelines, type LoadedPipeline } from "../pipeline-files";
import { readSecretsFile } from "../secrets-file";

export const RUN_HELP = `Usage: gust run [dir] [options]

Runs the pipelines of a repository (.gust.yml, .gust/*.yml) on this machine as local processes,
or with --executor kubernetes as pods in a cluster (same plan, same pod model as gust serve).

Options:
  --job NAME         run only this job and the jobs it needs (repeatable)
  --pipeline NAME    run only this pipeline of .gust/
${EVENT_HELP}
  --secret K=V       a secret value (repeatable); masked as *** in all output
  --secrets-file F   secrets from a KEY=VALUE file
  --parallel N       jobs running at once (default: number of CPUs)
  --commit REF       run a clean checkout of this commit instead of a copy of the working tree
  --cache-dir DIR    where caches and artifacts are kept (default: ~/.cache/gust)
  --keep-workspace   keep job workspaces for inspection
  --json             one JSON event per line instead of text

Kubernetes (--executor kubernetes; also from the GUST_KUBERNETES_* variables gust serve reads):
  --executor NAME    local (default) or kubernetes
  --kubeconfig FILE  the cluster (default: KUBECONFIG, ~/.kube/config, or in-cluster)
  --namespace NS     where job pods run
  --runner-url URL   where the pods reach this machine (its port is listened on here)
  --helper-image IMG the helper image (runner-images/helper)
  --default-image IMG the step image when a job names none
`;

const OPTIONS = {
  ...EVENT_OPTIONS,
  job: { type: "string", multiple: true },
  pipeline: { type: "string", multiple: true },
  secret: { type: "string", multiple: true },
  "secrets-file": { type: "string" },
  parallel: { type: "string" },
  commit: { type: "string" },
  "cache-dir": { type: "string" },
  "keep-workspace": { type: "boolean" },
  json: { type: "boolean" },
  executor: { type: "string" },
  kubeconfig: { type: "string" },
  namespace: { type: "string" },
  "runner-url": { type: "string" },
  "helper-image": { type: "string" },
  "default-image": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

export async function runCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, OPTIONS, "run");
  if (values.help) {
    ctx.stdout(RUN_HELP);
    return 0;
  }
  if (positionals.length > 1) throw new UsageError(`gust run takes one directory, got ${positionals.join(" ")}`);
  const parallel = positiveInt(values.parallel, "parallel", availableParallelism());
  const secrets = { ...(values["secrets-file"] ? await readSecretsFile(values["secrets-file"]) : {}), ...keyValues(values.secret, "secret") };
  const masker = new SecretMasker(Object.values(secrets));
  const json = values.json ? new JsonReporter(ctx.stdout) : undefined;
  const note = (text: string) => (json ? json.emit({ type: "note", text }) : ctx.stderr(`${ctx.errorColors.dim(`note: ${text}`)}\n`));

  const repository = await loadPipelines(resolve(ctx.cwd, positionals[0] ?? "."));
  const repo = await repositoryState(repository.root);
  let sha = repo.sha;
  let workspace: WorkspaceSource = { kind: "directory", path: repository.root };
  let pipelines = repository.pipelines;
  if (values.commit !== undefined) {
    if (!repo.isGit) throw new UsageError(`--commit needs a git repository; ${repository.root} is not one`);
    sha = await resolveCommit(repository.root, values.commit);
    workspace = { kind: "git", repository: repository.root, commit: sha };
    pipelines = [...(await pipelineTextsAtCommit(repository.root, sha))].map(([file, text]) => ({
      file,
      result: parsePipeline(text, file, defaultPipelineName(file, basename(repository.root))),
    }));
    if (pipelines.length === 0) throw new UsageError(`commit ${sha.slice(0, 7)} has no pipeline file`);
  }
  if (values.pipeline?.length) {
    const wanted = new Set(values.pipeline);
    pipelines = pipelines.filter((p) => p.result.ok && wanted.has(p.result.pipeline.name));
    if (pipelines.length === 0) throw new UsageError(`no pipeline named ${values.pipeline.join(", ")}`);
  }
  if (printDiagnostics(pipelines, ctx.errorColors, ctx.stderr) > 0) return 1;

  const event = eventContext(values, repo, sha);
  const plans: Plan[] = [];
  for (const loaded of pipelines as Array<LoadedPipeline & { result: { ok: true } }>) {
    const planned = planPipeline(loaded.result.pipeline, event, values.job?.length ? { onlyJobs: values.job } : {});
    if (!planned.ok) {
      for (const problem of planned.problems) ctx.stderr(`${ctx.errorColors.red("error")}: ${loaded.file}: ${problem.path}: ${problem.message}\n`);
      return 1;
    }
    if (!planned.plan.triggered) {
      note(`pipeline '${planned.plan.pipeline.name}' does not run for this event: ${planned.plan.reason} (simulate another with --event, --branch or --tag)`);
      continue;
    }
    plans.push(planned.plan);
  }
  if (plans.length === 0) {
    note("nothing to run");
    return 0;
  }

  const cacheRoot = values["cache-dir"] ? resolve(ctx.cwd, values["cache-dir"]) : join(ctx.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "gust");
  const artifactsDir = join(cacheRoot, "artifacts");
  await ctx.pruneArtifacts(artifactsDir, Date.now());
  const workRoot = await mkdtemp(join(tmpdir(), "gust-run-"));
  const onKubernetes = values.executor === "kubernetes";
  if (values.executor !== undefined && !onKubernetes && values.executor !== "local") throw new UsageError(`--executor is local or kubernetes, not ${values.executor}`);
  const kubernetes = onKubernetes
    ? await ctx.startKubernetesRun(kubernetesConfig(values, ctx), { dataDir: join(cacheRoot, "kubernetes"), warn: note })
    : undefined;
  const executor = kubernetes?.executor ?? ctx.createLocalExecutor({ workRoot, artifactsDir, cacheDir: join(cacheRoot, "cache") });
  let exitCode = 0;
  try {
    for (const plan of plans) {
      if (!onKubernetes) for (const line of localNotes(plan, secrets)) note(line);
      const result = await runPlan(plan, { ctx, json, masker, parallel, secrets, workspace, executor, keepWorkspace: values["keep-workspace"] ?? false });
      if (result.status !== "success") exitCode = result.status === "cancelled" ? 130 : 1;
      if (plan.release && plan.release.state !== "skipped" && result.status === "success") {
        note(`release to ${plan.release.def.target.type} is not executed by gust run; it runs under gust serve`);
      }
      if (exitCode === 130) break;
    }
  } finally {
    if (kubernetes) await kubernetes.close();
    else await executor.close();
    if (!values["keep-workspace"]) await rm(workRoot, { recursive: true, force: true });
    else note(`workspaces kept in ${workRoot}`);
  }
  return exitCode;
}

/** The Kubernetes settings gust serve would use (environment, config file), with this command's flags on top. */
function kubernetesConfig(values: { kubeconfig?: string; namespace?: string; "runner-url"?: string; "helper-image"?: string; "default-image"?: string }, ctx: CliContext): GustConfig {
  const argv: string[] = [];
  const flag = (name: string, value: string | undefined): void => {
    if (value !== undefined) argv.push(`--${name}`, value);
  };
  flag("kubeconfig", values.kubeconfig);
  flag("kubernetes-namespace", values.namespace);
  flag("runner-url", values["runner-url"]);
  flag("kubernetes-helper-image", values["helper-image"]);
  flag("kubernetes-default-image", values["default-image"]);
  try {
    return loadConfig({ argv: [...argv, "--executor", "kubernetes"], env: ctx.env, readFile: (file) => readFileSync(file, "utf8") });
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message);
    throw error;
  }
}

interface RunSettings {
  ctx: CliContext;
  json: JsonReporter | undefined;
  masker: SecretMasker;
  parallel: number;
  secrets: Record<string, string>;
  workspace: WorkspaceSource;
  executor: ReturnType<CliContext["createLocalExecutor"]>;
  keepWorkspace: boolean;
}

async function runPlan(plan: Plan, settings: RunSettings): Promise<PipelineResult> {
  const { ctx, json, masker } = settings;
  const pipelineRunId = `${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;
  const pretty = json ? undefined : new PrettyReporter(ctx.stdout, ctx.colors, plan.jobs.map((job) => job.name));
  if (json) json.emit({ type: "pipeline-started", pipeline: plan.pipeline.name, file: plan.pipeline.file, runId: pipelineRunId, event: plan.event.event, ref: plan.event.ref, sha: plan.event.sha });
  else ctx.stdout(`${ctx.colors.bold(`▶ ${plan.pipeline.name}`)} ${ctx.colors.dim(`(${plan.pipeline.file}) · ${plan.reason} · ${plan.event.sha.slice(0, 7)} · ${plan.jobs.filter((job) => job.state !== "skipped").length} jobs`)}\n`);

  const onEvent = (event: RunnerEvent) => {
    const masked = maskEvent(event, masker);
    if (json) json.handle(masked);
    else pretty!.handle(masked);
  };
  const runner = new PipelineRunner({ executor: settings.executor, plan, pipelineRunId, workspace: settings.workspace, secrets: settings.secrets, parallel: settings.parallel, onEvent });
  let interrupts = 0;
  const removeHandler = ctx.onInterrupt(() => {
    interrupts++;
    if (interrupts === 1) {
      ctx.stderr(ctx.errorColors.yellow("\ncancelling: stopping running steps (Ctrl-C again to force)\n"));
      void runner.cancel();
    } else {
      process.exit(130);
    }
  });
  try {
    const result = await runner.run();
    if (json) json.summary(result);
    else ctx.stdout(`\n${summaryTable(result, ctx.colors)}\n`);
    return result;
  } finally {
    removeHandler();
  }
}

function maskEvent(event: RunnerEvent, masker: SecretMasker): RunnerEvent {
  if (event.type === "job-event" && event.event.type === "log") {
    return { ...event, event: { ...event.event, text: masker.maskLine(event.event.text) } };
  }
  if (event.type === "job-finished" && event.summary.detail) {
    return { ...event, summary: { ...event.summary, detail: masker.maskLine(event.summary.detail) } };
  }
  return event;
}

/** What a local run does differently from a pod, said once per pipeline. */
function localNotes(plan: Plan, secrets: Record<string, string>): string[] {
  const notes: string[] = [];
  const running = plan.jobs.filter((job) => job.state !== "skipped");
  const images = [...new Set(running.flatMap((job) => [job.image, ...job.steps.map((step) => step.image)]).filter((image): image is string => image !== undefined))];
  if (images.length > 0) notes.push(`steps run as local processes with the tools of this machine; image${images.length > 1 ? "s" : ""} ${images.join(", ")} not used`);
  for (const job of running) {
    if (job.services.length > 0) {
      notes.push(`services are not started by gust run: job '${job.name}' expects ${job.services.map((s) => `${s.name} (${s.image}${s.ports.length ? ` on port ${s.ports.join(", ")}` : ""})`).join(", ")}; start them yourself or run under gust serve with the kubernetes executor`);
    }
    const missing = job.secrets.filter((name) => secrets[name] === undefined);
    if (missing.length > 0) notes.push(`job '${job.name}' reads secret${missing.length > 1 ? "s" : ""} ${missing.join(", ")}, not given (--secret or --secrets-file)`);
  }
  return notes;
}
