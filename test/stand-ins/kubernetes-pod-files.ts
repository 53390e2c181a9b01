// What a simulated container sees of its pod: env vars (literal values, secretKeyRef, fieldRef,
// envFrom secretRef — a missing secret or key is the kubelet's CreateContainerConfigError) and the
// files of Secret volumes mounted into it.
import type { ContainerSpec, Pod, Secret } from "./kubernetes-types";

export type SecretLookup = (name: string) => Secret | undefined;

function secretValue(secret: Secret, key: string): string | undefined {
  const data = secret.data?.[key];
  return data === undefined ? undefined : Buffer.from(data, "base64").toString("utf8");
}

function fieldValue(pod: Pod, path: string): string {
  const fields: Record<string, string | undefined> = {
    "metadata.name": pod.metadata.name,
    "metadata.namespace": pod.metadata.namespace,
    "metadata.uid": pod.metadata.uid,
    "spec.nodeName": pod.spec.nodeName,
    "status.podIP": pod.status.podIP,
    "status.hostIP": pod.status.hostIP,
  };
  const label = /^metadata\.labels\['(.+)'\]$/.exec(path);
  if (label) return pod.metadata.labels?.[label[1]!] ?? "";
  return fields[path] ?? "";
}

/** The container's environment, or the CreateContainerConfigError message that keeps it from starting. */
export function containerEnv(pod: Pod, container: ContainerSpec, secrets: SecretLookup): { env: Record<string, string> } | { error: string } {
  const env: Record<string, string> = {};
  const namespace = pod.metadata.namespace ?? "default";
  for (const source of container.envFrom ?? []) {
    if (!source.secretRef) continue;
    const secret = secrets(source.secretRef.name ?? "");
    if (!secret) {
      if (source.secretRef.optional) continue;
      return { error: `secret "${source.secretRef.name}" not found` };
    }
    for (const key of Object.keys(secret.data ?? {})) env[`${source.prefix ?? ""}${key}`] = secretValue(secret, key)!;
  }
  for (const variable of container.env ?? []) {
    const from = variable.valueFrom;
    if (from?.secretKeyRef) {
      const reference = from.secretKeyRef;
      const secret = secrets(reference.name ?? "");
      const value = secret ? secretValue(secret, reference.key) : undefined;
      if (value === undefined) {
        if (reference.optional) continue;
        return { error: secret ? `couldn't find key ${reference.key} in Secret ${namespace}/${reference.name}` : `secret "${reference.name}" not found` };
      }
      env[variable.name] = value;
    } else if (from?.configMapKeyRef) {
      return { error: `configmap "${from.configMapKeyRef.name}" not found` };
    } else if (from?.fieldRef) {
      env[variable.name] = fieldValue(pod, from.fieldRef.fieldPath);
    } else {
      env[variable.name] = (variable.value ?? "").replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string) => env[name] ?? whole);
    }
  }
  return { env };
}

/** The text of a file under a Secret volume mounted into the container, or undefined when there is none. */
export function mountedFile(pod: Pod, container: ContainerSpec, path: string, secrets: SecretLookup): string | undefined {
  for (const mount of container.volumeMounts ?? []) {
    const prefix = mount.mountPath.endsWith("/") ? mount.mountPath : `${mount.mountPath}/`;
    if (!path.startsWith(prefix)) continue;
    const volume = pod.spec.volumes?.find((entry) => entry.name === mount.name);
    const secret = volume?.secret ? secrets(volume.secret.secretName ?? "") : undefined;
    return secret ? secretValue(secret, path.slice(prefix.length)) : undefined;
  }
  return undefined;
}

/** Secrets the pod's volumes need that do not exist (the kubelet waits for them: FailedMount). */
export function missingVolumeSecrets(pod: Pod, secrets: SecretLookup): string[] {
  return (pod.spec.volumes ?? [])
    .filter((volume) => volume.secret && !volume.secret.optional && !secrets(volume.secret.secretName ?? ""))
    .map((volume) => volume.secret!.secretName ?? "");
}
