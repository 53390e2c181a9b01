// deploy/kubernetes: every document is a valid Kubernetes object, and the rules the README promises
// hold (RBAC only in the job namespace, two probed replicas, credentials only from the Secret,
// environment names the configuration really reads, the kustomization complete).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { FIELDS, loadConfig } from "../../src/config";
import { HELP } from "../../src/cli/main";
import { API_BASE_PATH } from "../../src/http/api";
import { createHarness } from "../http/harness";
import { KINDS, kindOf, loadManifests, parseYamlFile, validateManifest, yamlFiles, type K8sObject, type Manifest } from "./manifest-validation";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const DIR = join(ROOT, "deploy/kubernetes");
const KUSTOMIZATION = "kustomization.yaml";
const SECRET_TEMPLATE = "secret.template.yaml";
const SERVER_NAMESPACE = "gust";
const JOB_NAMESPACE = "gust-jobs";
/** Settings of the Kubernetes executor the lead adds to src/config; allowed before they exist. */
const KUBERNETES_ENV = ["GUST_KUBERNETES_NAMESPACE", "GUST_KUBERNETES_HELPER_IMAGE", "GUST_KUBERNETES_DEFAULT_IMAGE", "GUST_RUNNER_URL"];

const manifests = loadManifests(DIR, { skip: [KUSTOMIZATION] });
const resources = manifests.filter((manifest) => manifest.file !== SECRET_TEMPLATE);

function only(kind: string, list: Manifest[] = resources): K8sObject {
  const found = list.filter((manifest) => manifest.object.kind === kind);
  expect(found.map((manifest) => manifest.object.metadata.name), `exactly one ${kind}`).toHaveLength(1);
  return found[0]!.object;
}

type Container = {
  name: string;
  image: string;
  args?: string[];
  ports?: Array<{ name?: string; containerPort: number }>;
  env?: Array<{ name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } } }>;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  startupProbe?: { httpGet?: { path: string; port: string | number } };
  securityContext?: Record<string, unknown>;
  volumeMounts?: Array<{ name: string; mountPath: string }>;
};
type PodSpec = {
  containers: Container[];
  securityContext?: Record<string, unknown>;
  enableServiceLinks?: boolean;
  automountServiceAccountToken?: boolean;
  serviceAccountName?: string;
  topologySpreadConstraints?: Array<{ topologyKey: string; labelSelector?: { matchLabels?: Record<string, string> } }>;
  volumes?: Array<{ name: string; emptyDir?: object }>;
};
type PodTemplate = { metadata: { labels: Record<string, string> }; spec: PodSpec };

const deployment = () => only("Deployment") as K8sObject & { spec: { replicas: number; selector: { matchLabels: Record<string, string> }; template: PodTemplate } };
const migrateJob = () => only("Job") as K8sObject & { spec: { template: PodTemplate } };
const podTemplates = (): Array<[string, PodTemplate]> => [
  ["Deployment", deployment().spec.template],
  ["Job", migrateJob().spec.template],
];

const matches = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([key, value]) => labels[key] === value);

describe("deploy/kubernetes documents", () => {
  it("has the objects the README describes", () => {
    expect(manifests.map((manifest) => `${manifest.object.kind}/${manifest.object.metadata.name}`).sort()).toEqual(
      [
        "Deployment/gust",
        "Ingress/gust",
        "Job/gust-migrate",
        "Namespace/gust",
        "Namespace/gust-jobs",
        "PodDisruptionBudget/gust",
        "Role/gust-executor",
        "RoleBinding/gust-executor",
        "Secret/gust",
        "Service/gust",
        "ServiceAccount/gust",
      ].sort(),
    );
  });

  it.each(manifests.map((manifest) => [`${manifest.file}: ${manifest.object.kind}/${manifest.object.metadata.name}`, manifest.object] as const))(
    "%s is a valid Kubernetes object",
    (_name, object) => {
      expect(validateManifest(object)).toEqual([]);
    },
  );

  describe("the validator can fail", () => {
    const broken = (change: (copy: Record<string, any>) => void) => {
      const copy = structuredClone(deployment()) as Record<string, any>;
      change(copy);
      return validateManifest(copy);
    };

    it("refuses a wrong type", () => {
      expect(broken((copy) => (copy.spec.replicas = "two")).join("\n")).toMatch(/replicas must be integer/);
    });
    it("refuses a missing required field", () => {
      expect(broken((copy) => delete copy.spec.template.spec.containers[0].name).join("\n")).toMatch(/required property 'name'|required property name/);
    });
    it("refuses a misspelt field the schema alone lets through", () => {
      expect(broken((copy) => (copy.spec.template.spec.containers[0].readinesProbe = { httpGet: { path: "/readyz", port: 8080 } }))).toEqual([
        "spec.template.spec.containers[0].readinesProbe: unknown field of V1Container",
      ]);
    });
    it("refuses a kind deploy/ does not use, such as a ClusterRole", () => {
      expect(validateManifest({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: "gust" }, rules: [] })[0]).toMatch(/not a kind deploy\/ may use/);
    });
    it("refuses a namespaced object without its namespace", () => {
      expect(validateManifest({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "gust" } })).toEqual([
        "metadata.namespace: missing (every namespaced object names its namespace)",
      ]);
    });
  });

  it("reads the same for kubectl (YAML 1.1) as here: the loader refuses a scalar that does not", () => {
    const path = join(ROOT, "test/deploy/fixtures/yaml11-ambiguous.yaml");
    expect(() => parseYamlFile(path)).toThrow(/reads differently as YAML 1.1/);
  });
});

describe("scope", () => {
  it("creates nothing cluster-scoped besides its two namespaces, and everything else in them", () => {
    for (const { object } of manifests) {
      const spec = KINDS[kindOf(object)]!;
      if (!spec.namespaced) {
        expect(object.kind).toBe("Namespace");
        continue;
      }
      expect([SERVER_NAMESPACE, JOB_NAMESPACE], `${object.kind}/${object.metadata.name}`).toContain(object.metadata.namespace);
    }
    expect(resources.filter((m) => m.object.kind === "Namespace").map((m) => m.object.metadata.name).sort()).toEqual([SERVER_NAMESPACE, JOB_NAMESPACE]);
  });

  it("grants exactly the executor's rights, in the job namespace only, to Gust's ServiceAccount", () => {
    const roles = resources.filter((manifest) => manifest.object.kind === "Role");
    expect(roles).toHaveLength(1);
    const role = roles[0]!.object as K8sObject & { rules: Array<{ apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[]; nonResourceURLs?: string[] }> };
    expect(role.metadata.namespace).toBe(JOB_NAMESPACE);
    const grants = role.rules.flatMap((rule) => {
      expect(rule.nonResourceURLs).toBeUndefined();
      return rule.apiGroups.flatMap((group) => rule.resources.flatMap((resource) => rule.verbs.map((verb) => `${group || "core"} ${resource} ${verb}`)));
    });
    const expected = [
      ...["create", "get", "list", "watch", "delete"].map((verb) => `core pods ${verb}`),
      "core pods/log get",
      ...["create", "get", "patch", "delete", "list"].map((verb) => `core secrets ${verb}`),
      ...["get", "list", "watch"].map((verb) => `core events ${verb}`),
    ];
    expect(grants.sort()).toEqual(expected.sort());

    const binding = only("RoleBinding") as K8sObject & { subjects: Array<Record<string, string>>; roleRef: Record<string, string> };
    const account = only("ServiceAccount");
    expect(binding.metadata.namespace).toBe(JOB_NAMESPACE);
    expect(binding.roleRef).toEqual({ apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name });
    expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: account.metadata.name, namespace: SERVER_NAMESPACE }]);
    expect(account.metadata.namespace).toBe(SERVER_NAMESPACE);
    expect(deployment().spec.template.spec.serviceAccountName).toBe(account.metadata.name);
  });

  it("puts Gust in its own namespace and its job pods in the other", () => {
    for (const kind of ["Deployment", "Job", "Service", "Ingress", "PodDisruptionBudget", "ServiceAccount"]) expect(only(kind).metadata.namespace).toBe(SERVER_NAMESPACE);
    expect(envOf(deployment().spec.template.spec.containers[0]!).GUST_KUBERNETES_NAMESPACE).toBe(JOB_NAMESPACE);
  });
});

function envOf(container: Container): Record<string, string | undefined> {
  return Object.fromEntries((container.env ?? []).map((entry) => [entry.name, entry.value]));
}

describe("the Deployment", () => {
  const spec = () => deployment().spec;
  const container = () => spec().template.spec.containers[0]!;

  it("runs two replicas of `gust serve`, one container", () => {
    expect(spec().replicas).toBe(2);
    expect(spec().template.spec.containers).toHaveLength(1);
    expect(container().args).toEqual(["serve"]);
    expect(matches(spec().selector.matchLabels, spec().template.metadata.labels)).toBe(true);
  });

  it("probes /healthz for liveness and /readyz for readiness, on the port Gust listens on", async () => {
    const port = container().ports!.find((entry) => entry.name === "http")!;
    expect(port.containerPort).toBe(Number(envOf(container()).GUST_PORT));
    expect(container().livenessProbe?.httpGet).toEqual({ path: "/healthz", port: "http" });
    expect(container().readinessProbe?.httpGet).toEqual({ path: "/readyz", port: "http" });
    expect(container().startupProbe?.httpGet).toEqual({ path: "/healthz", port: "http" });
    // The paths are the app's: a real request answers 200.
    const { app } = createHarness();
    for (const path of ["/healthz", "/readyz"]) expect((await app.request(path)).status, path).toBe(200);
  });

  it.each(["Deployment", "Job"])("%s: sets cpu and memory requests and limits", (kind) => {
    const template = podTemplates().find(([name]) => name === kind)![1];
    for (const each of template.spec.containers) {
      for (const part of ["requests", "limits"] as const) {
        expect(Object.keys(each.resources?.[part] ?? {}).sort(), `${kind} ${each.name} ${part}`).toEqual(["cpu", "memory"]);
      }
    }
  });

  it.each(["Deployment", "Job"])("%s: runs as non-root on a read-only root file system, the data dir an emptyDir", (kind) => {
    const template = podTemplates().find(([name]) => name === kind)![1];
    expect(template.spec.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
    expect(template.spec.securityContext!.runAsUser).toBeGreaterThan(0);
    // Service links would set GUST_PORT=tcp://… for the Service named gust.
    expect(template.spec.enableServiceLinks).toBe(false);
    for (const each of template.spec.containers) {
      expect(each.securityContext).toMatchObject({ runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
      const dataDir = envOf(each).GUST_DATA_DIR;
      const mount = each.volumeMounts?.find((entry) => entry.mountPath === dataDir);
      expect(mount, `${kind}: a volume at GUST_DATA_DIR ${dataDir}`).toBeDefined();
      expect(template.spec.volumes?.find((volume) => volume.name === mount!.name)?.emptyDir).toBeDefined();
    }
  });

  it("only the server's pods get a Kubernetes API token", () => {
    expect(deployment().spec.template.spec.automountServiceAccountToken).toBe(true);
    expect(migrateJob().spec.template.spec.automountServiceAccountToken).toBe(false);
  });

  it("spreads the replicas across nodes", () => {
    const template = spec().template;
    const byHost = template.spec.topologySpreadConstraints?.find((constraint) => constraint.topologyKey === "kubernetes.io/hostname");
    expect(byHost).toBeDefined();
    expect(matches(byHost!.labelSelector!.matchLabels!, template.metadata.labels)).toBe(true);
  });

  it("keeps one replica through voluntary disruptions", () => {
    const budget = only("PodDisruptionBudget") as K8sObject & { spec: { minAvailable: number; selector: { matchLabels: Record<string, string> } } };
    expect(budget.spec.minAvailable).toBe(1);
    expect(budget.spec.selector.matchLabels).toEqual(spec().selector.matchLabels);
  });
});

describe("configuration through the environment", () => {
  const allowed = new Set([...Object.values(FIELDS).flatMap((field) => field.env), ...KUBERNETES_ENV]);
  const secretNames = new Set(Object.values(FIELDS).filter((field) => field.secret).flatMap((field) => field.env));
  const containers = () => podTemplates().flatMap(([kind, template]) => template.spec.containers.map((container) => [kind, container] as const));
  const secret = () => only("Secret", manifests) as K8sObject & { stringData: Record<string, string> };

  it("uses only names the configuration reads", () => {
    for (const [kind, container] of containers()) {
      for (const entry of container.env ?? []) expect(allowed.has(entry.name), `${kind}: ${entry.name} is not read by src/config`).toBe(true);
    }
  });

  it("takes every credential from the Secret, never as a value", () => {
    const template = secret();
    for (const [kind, container] of containers()) {
      for (const entry of container.env ?? []) {
        if (!secretNames.has(entry.name)) continue;
        expect(entry.value, `${kind}: ${entry.name}`).toBeUndefined();
        const ref = entry.valueFrom?.secretKeyRef;
        expect(ref?.name, `${kind}: ${entry.name} from the Secret`).toBe(template.metadata.name);
        if (!ref!.optional) expect(Object.keys(template.stringData), `${kind}: ${entry.name} key ${ref!.key}`).toContain(ref!.key);
      }
    }
    const server = envOf(deployment().spec.template.spec.containers[0]!);
    expect(Object.keys(server)).toEqual(expect.arrayContaining(["DATABASE_URL", "GUST_MASTER_KEY"]));
  });

  it("the Secret template holds placeholders only", () => {
    const values = Object.values(secret().stringData);
    expect(values.length).toBeGreaterThan(0);
    for (const value of values) expect(value).toContain("REPLACE_ME");
    expect(secret()).not.toHaveProperty("data");
  });

  it.each(["Deployment", "Job"])("%s: the values are accepted by gust's configuration loader", (kind) => {
    const template = podTemplates().find(([name]) => name === kind)![1];
    const container = template.spec.containers[0]!;
    const fromSecret: Record<string, string> = { "database-url": "postgres://gust:pw@db.internal:5432/gust", "master-key": "ab".repeat(32) };
    const env: Record<string, string> = {};
    for (const entry of container.env ?? []) {
      const key = entry.valueFrom?.secretKeyRef?.key;
      const value = entry.value ?? (key === undefined ? undefined : fromSecret[key]);
      if (value !== undefined) env[entry.name] = value;
    }
    const config = loadConfig({ argv: (container.args ?? []).slice(1), env, readFile: () => { throw new Error("no config file here"); } });
    expect(config.databaseUrl).toBe(fromSecret["database-url"]);
    if (kind === "Deployment") {
      expect(config.executor).toBe("kubernetes");
      expect(config.shutdownGraceMs / 1000 + 5).toBeLessThan((deployment().spec.template.spec as { terminationGracePeriodSeconds?: number }).terminationGracePeriodSeconds!);
    }
  });

  it("the migration Job runs `gust migrate`, a command the CLI has", () => {
    expect(migrateJob().spec.template.spec.containers[0]!.args).toEqual(["migrate"]);
    expect(HELP).toMatch(/^ {2}migrate /m);
    expect(migrateJob().spec.template.spec.containers[0]!.image).toBe(deployment().spec.template.spec.containers[0]!.image);
  });
});

describe("traffic", () => {
  type Backend = { service: { name: string; port: { name?: string; number?: number } } };
  const ingress = () => only("Ingress") as K8sObject & { spec: { rules: Array<{ http: { paths: Array<{ path: string; pathType: string; backend: Backend }> } }> } };
  const service = () => only("Service") as K8sObject & { spec: { selector: Record<string, string>; ports: Array<{ name: string; port: number; targetPort: string | number }> } };
  const paths = () => ingress().spec.rules.flatMap((rule) => rule.http.paths);

  it("the Service selects the server pods (not the migration Job's) and targets their port", () => {
    const server = deployment().spec.template;
    expect(matches(service().spec.selector, server.metadata.labels)).toBe(true);
    expect(matches(service().spec.selector, migrateJob().spec.template.metadata.labels)).toBe(false);
    const portNames = server.spec.containers.flatMap((container) => container.ports ?? []).map((port) => port.name);
    for (const port of service().spec.ports) expect(portNames).toContain(port.targetPort);
  });

  it("job pods reach the runner API at the Service", () => {
    const url = new URL(envOf(deployment().spec.template.spec.containers[0]!).GUST_RUNNER_URL!);
    expect(url.hostname.split(".").slice(0, 2)).toEqual([service().metadata.name, service().metadata.namespace]);
    expect(service().spec.ports.map((port) => port.port)).toContain(url.port === "" ? 80 : Number(url.port));
  });

  it("the Ingress routes the webhooks and the API to the Service, and nothing internal", async () => {
    for (const entry of paths()) {
      expect(entry.pathType).toBe("Prefix");
      expect(entry.backend.service.name).toBe(service().metadata.name);
      expect(service().spec.ports.map((port) => port.name)).toContain(entry.backend.service.port.name);
    }
    const routed = paths().map((entry) => entry.path);
    expect(routed).toContain(API_BASE_PATH);
    // The webhook paths are routes of the app: unsigned deliveries get 401, not 404.
    const { app } = createHarness();
    const hooks = routed.filter((path) => path !== API_BASE_PATH);
    expect(hooks.sort()).toEqual(["/hooks/github", "/hooks/gitlab"]);
    for (const path of hooks) {
      const response = await app.request(path, { method: "POST", body: "{}", headers: { "content-type": "application/json" } });
      expect(response.status, path).toBe(401);
    }
    for (const internal of ["/metrics", "/healthz", "/readyz", "/runner/v1/source"]) {
      expect(routed.some((path) => internal === path || internal.startsWith(`${path}/`)), internal).toBe(false);
    }
  });
});

describe("kustomization.yaml", () => {
  const kustomization = () => parseYamlFile(join(DIR, KUSTOMIZATION))[0] as { kind: string; resources: string[]; images?: Array<{ name: string }> };

  it("lists every manifest but the Secret template, which applying must never overwrite the real Secret with", () => {
    expect(kustomization().kind).toBe("Kustomization");
    const expected = yamlFiles(DIR).filter((file) => file !== KUSTOMIZATION && file !== SECRET_TEMPLATE);
    expect([...kustomization().resources].sort()).toEqual(expected);
    expect(kustomization().resources).not.toContain(SECRET_TEMPLATE);
  });

  it("its image entry names the image the pods use", () => {
    const image = deployment().spec.template.spec.containers[0]!.image;
    expect(kustomization().images?.map((entry) => entry.name)).toEqual([image.replace(/:[^:/]+$/, "")]);
  });
});

describe("README", () => {
  it("names the webhook paths and the files of deploy/kubernetes", () => {
    const readme = readFileSync(join(ROOT, "deploy/README.md"), "utf8");
    for (const path of ["/hooks/github", "/hooks/gitlab"]) expect(readme).toContain(path);
    for (const file of yamlFiles(DIR)) expect(readme, file).toContain(file);
  });
});
