#!/usr/bin/env python3
"""Offline check of Knative Services (serving.knative.dev/v1) for Baton.

kubernetes-validate has no Knative schema, so this checks what Knative Serving's admission webhook
would refuse, plus Baton's own conventions:

- the Service shape: apiVersion, kind, a DNS-1035 name, spec.template.spec with exactly one container;
- only the pod-spec fields Knative allows without feature flags, in the revision spec, the container
  and its securityContext (a typo or a Deployment-only field fails here instead of at apply time);
- one port at most, named http1 or h2c, not one of Knative's reserved ports; no PORT or K_* variables
  (Knative sets them); probes on the serving port; secret and configMap mounts read-only and bound to a
  declared volume; resource quantities well formed, memory request <= limit;
- the container itself (env, probes, resources, securityContext...) against the Kubernetes core/v1
  schema, strictly, when the kubernetes-validate package is installed;
- Baton: BATON_FUNCTION is token, jwks or discovery and matches the component label; readiness and
  liveness probe GET /health; memory request and limit are set.

Usage: check-knative.py FILE.yaml...   Exit status 1 if any problem was found.
"""

import copy
import re
import sys

import yaml

DNS1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
QUANTITY = re.compile(r"^([0-9]+(\.[0-9]+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")

SERVICE_METADATA = {"name", "namespace", "labels", "annotations"}
SERVICE_SPEC = {"template", "traffic"}
TEMPLATE = {"metadata", "spec"}
TEMPLATE_METADATA = {"name", "labels", "annotations"}
REVISION_SPEC = {
    "containers", "volumes", "serviceAccountName", "imagePullSecrets", "enableServiceLinks",
    "automountServiceAccountToken", "containerConcurrency", "timeoutSeconds",
    "responseStartTimeoutSeconds", "idleTimeoutSeconds",
}
CONTAINER = {
    "name", "args", "command", "env", "envFrom", "image", "imagePullPolicy", "livenessProbe", "ports",
    "readinessProbe", "startupProbe", "resources", "securityContext", "terminationMessagePath",
    "terminationMessagePolicy", "volumeMounts", "workingDir",
}
CONTAINER_SECURITY = {
    "allowPrivilegeEscalation", "capabilities", "readOnlyRootFilesystem", "runAsGroup", "runAsNonRoot",
    "runAsUser", "seccompProfile",
}
VOLUME_SOURCES = {"configMap", "secret", "projected"}
RESERVED_PORTS = {8012, 8013, 8022, 9090, 9091}
RESERVED_ENV = {"PORT", "K_SERVICE", "K_CONFIGURATION", "K_REVISION"}
RESERVED_MOUNTS = {"/", "/dev", "/dev/log", "/tmp", "/var", "/var/log"}
FUNCTIONS = {"token", "jwks", "discovery"}
SCALE_ANNOTATIONS = ("autoscaling.knative.dev/min-scale", "autoscaling.knative.dev/max-scale")
UNITS = {
    "": 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
}


def quantity(value):
    match = QUANTITY.match(str(value))
    return float(match.group(1)) * UNITS[match.group(3) or ""] if match else None


class Checker:
    def __init__(self, source):
        self.source = source
        self.problems = []

    def fail(self, path, message):
        self.problems.append(f"{self.source}: {path}: {message}")

    def mapping(self, value, path, allowed=None, required=()):
        if not isinstance(value, dict):
            self.fail(path, "must be a mapping")
            return {}
        for key in required:
            if key not in value:
                self.fail(path, f"{key} is required")
        if allowed is not None:
            for key in value:
                if key not in allowed:
                    self.fail(f"{path}.{key}", "not allowed in a Knative Service (or needs a feature flag)")
        return value

    def check(self, document):
        if document.get("apiVersion") != "serving.knative.dev/v1":
            self.fail("apiVersion", f"expected serving.knative.dev/v1, got {document.get('apiVersion')!r}")
        if document.get("kind") != "Service":
            self.fail("kind", f"expected Service, got {document.get('kind')!r}")
        self.mapping(document, "", {"apiVersion", "kind", "metadata", "spec"}, ("metadata", "spec"))
        metadata = self.mapping(document.get("metadata", {}), "metadata", SERVICE_METADATA, ("name",))
        name = metadata.get("name", "")
        if not isinstance(name, str) or not DNS1035.match(name) or len(name) > 63:
            self.fail("metadata.name", f"{name!r} is not a DNS-1035 label of at most 63 characters")
        self.labels(metadata, "metadata")
        spec = self.mapping(document.get("spec", {}), "spec", SERVICE_SPEC, ("template",))
        template = self.mapping(spec.get("template", {}), "spec.template", TEMPLATE, ("spec",))
        template_metadata = self.mapping(template.get("metadata", {}), "spec.template.metadata", TEMPLATE_METADATA)
        if "name" in template_metadata and not str(template_metadata["name"]).startswith(f"{name}-"):
            self.fail("spec.template.metadata.name", f"must start with {name}-")
        self.labels(template_metadata, "spec.template.metadata")
        self.annotations(template_metadata.get("annotations", {}))
        revision = self.mapping(template.get("spec", {}), "spec.template.spec", REVISION_SPEC, ("containers",))
        for key in ("containerConcurrency", "timeoutSeconds"):
            if key in revision and (not isinstance(revision[key], int) or revision[key] < 0):
                self.fail(f"spec.template.spec.{key}", "must be a non-negative integer")
        volumes = self.volumes(revision.get("volumes", []))
        containers = revision.get("containers")
        if not isinstance(containers, list) or len(containers) != 1:
            self.fail("spec.template.spec.containers", "exactly one container")
            return
        used = self.container(containers[0], "spec.template.spec.containers[0]", volumes)
        for volume in volumes:
            if volume not in used:
                self.fail("spec.template.spec.volumes", f"volume {volume!r} is not mounted")
        self.baton(metadata, template_metadata, containers[0])
        self.kubernetes_schema(containers[0], revision.get("volumes", []))

    def labels(self, metadata, path):
        for key, value in (metadata.get("labels") or {}).items():
            if not isinstance(value, str):
                self.fail(f"{path}.labels.{key}", "label values are strings")

    def annotations(self, annotations):
        values = {}
        for key, value in (annotations or {}).items():
            if not isinstance(value, str):
                self.fail(f"spec.template.metadata.annotations.{key}", "annotation values are strings (quote numbers)")
                continue
            if key in SCALE_ANNOTATIONS or key == "autoscaling.knative.dev/target":
                try:
                    values[key] = float(value)
                except ValueError:
                    self.fail(f"spec.template.metadata.annotations.{key}", f"{value!r} is not a number")
                    continue
                if values[key] < 0:
                    self.fail(f"spec.template.metadata.annotations.{key}", "must not be negative")
        low, high = (values.get(key) for key in SCALE_ANNOTATIONS)
        if low is not None and high is not None and high > 0 and low > high:
            self.fail("spec.template.metadata.annotations", "min-scale is above max-scale")

    def volumes(self, volumes):
        names = {}
        if not isinstance(volumes, list):
            self.fail("spec.template.spec.volumes", "must be a list")
            return names
        for index, volume in enumerate(volumes):
            path = f"spec.template.spec.volumes[{index}]"
            volume = self.mapping(volume, path, {"name"} | VOLUME_SOURCES, ("name",))
            sources = [key for key in volume if key in VOLUME_SOURCES]
            if len(sources) != 1:
                self.fail(path, "exactly one of configMap, secret, projected")
            name = volume.get("name")
            if name in names:
                self.fail(path, f"volume name {name!r} is used twice")
            names[name] = sources[0] if sources else None
            if "secret" in volume and not volume["secret"].get("secretName"):
                self.fail(f"{path}.secret", "secretName is required")
            if "configMap" in volume and not volume["configMap"].get("name"):
                self.fail(f"{path}.configMap", "name is required")
        return names

    def container(self, container, path, volumes):
        container = self.mapping(container, path, CONTAINER, ("image",))
        if not isinstance(container.get("image"), str) or not container.get("image"):
            self.fail(f"{path}.image", "must be a non-empty string")
        ports = container.get("ports", [])
        port = 8080
        if len(ports) > 1:
            self.fail(f"{path}.ports", "at most one port")
        for index, item in enumerate(ports):
            item = self.mapping(item, f"{path}.ports[{index}]", {"name", "containerPort", "protocol"}, ("containerPort",))
            port = item.get("containerPort")
            if not isinstance(port, int) or not 0 < port < 65536 or port in RESERVED_PORTS:
                self.fail(f"{path}.ports[{index}].containerPort", f"{port!r} is not a usable port (reserved: {sorted(RESERVED_PORTS)})")
            if item.get("name", "http1") not in ("http1", "h2c"):
                self.fail(f"{path}.ports[{index}].name", "http1 or h2c")
            if item.get("protocol", "TCP") != "TCP":
                self.fail(f"{path}.ports[{index}].protocol", "TCP only")
        for index, variable in enumerate(container.get("env", [])):
            item_path = f"{path}.env[{index}]"
            variable = self.mapping(variable, item_path, {"name", "value", "valueFrom"}, ("name",))
            name = variable.get("name", "")
            if not ENV_NAME.match(str(name)):
                self.fail(f"{item_path}.name", f"{name!r} is not a valid variable name")
            if name in RESERVED_ENV:
                self.fail(f"{item_path}.name", f"{name} is set by Knative")
            if ("value" in variable) == ("valueFrom" in variable):
                self.fail(item_path, "exactly one of value and valueFrom")
            if "value" in variable and not isinstance(variable["value"], str):
                self.fail(f"{item_path}.value", "must be a string (quote numbers)")
            if "valueFrom" in variable:
                self.mapping(variable["valueFrom"], f"{item_path}.valueFrom", {"secretKeyRef", "configMapKeyRef"})
        for probe_name in ("readinessProbe", "livenessProbe", "startupProbe"):
            if probe_name in container:
                self.probe(container[probe_name], f"{path}.{probe_name}", port)
        security = self.mapping(container.get("securityContext", {}), f"{path}.securityContext", CONTAINER_SECURITY)
        added = (security.get("capabilities") or {}).get("add") or []
        if any(capability != "NET_BIND_SERVICE" for capability in added):
            self.fail(f"{path}.securityContext.capabilities.add", "only NET_BIND_SERVICE may be added")
        self.resources(container.get("resources", {}), f"{path}.resources")
        used = set()
        paths = set()
        for index, mount in enumerate(container.get("volumeMounts", [])):
            item_path = f"{path}.volumeMounts[{index}]"
            mount = self.mapping(mount, item_path, {"name", "mountPath", "readOnly", "subPath"}, ("name", "mountPath"))
            name = mount.get("name")
            mount_path = str(mount.get("mountPath", ""))
            if name not in volumes:
                self.fail(f"{item_path}.name", f"no volume named {name!r}")
            elif mount.get("readOnly") is not True:
                self.fail(f"{item_path}.readOnly", f"a {volumes[name]} volume must be mounted readOnly: true")
            if not mount_path.startswith("/") or mount_path.rstrip("/") in RESERVED_MOUNTS or mount_path.startswith("/dev/"):
                self.fail(f"{item_path}.mountPath", f"{mount_path!r} is not an absolute, unreserved path")
            if mount_path in paths:
                self.fail(f"{item_path}.mountPath", f"{mount_path} is mounted twice")
            paths.add(mount_path)
            used.add(name)
        return used

    def probe(self, probe, path, port):
        probe = self.mapping(probe, path)
        handlers = [key for key in ("httpGet", "tcpSocket", "grpc", "exec") if key in probe]
        if len(handlers) != 1:
            self.fail(path, "exactly one of httpGet, tcpSocket, grpc, exec")
        http = probe.get("httpGet")
        if isinstance(http, dict):
            if "port" in http and http["port"] not in (port, "http1", "h2c"):
                self.fail(f"{path}.httpGet.port", f"must be the serving port {port} (or left out)")
            if not str(http.get("path", "/")).startswith("/"):
                self.fail(f"{path}.httpGet.path", "must start with /")

    def resources(self, resources, path):
        resources = self.mapping(resources, path, {"requests", "limits"})
        for section in ("requests", "limits"):
            for key, value in (resources.get(section) or {}).items():
                if key not in ("cpu", "memory", "ephemeral-storage"):
                    self.fail(f"{path}.{section}.{key}", "unknown resource")
                elif quantity(value) is None:
                    self.fail(f"{path}.{section}.{key}", f"{value!r} is not a quantity")
        request = quantity((resources.get("requests") or {}).get("memory", ""))
        limit = quantity((resources.get("limits") or {}).get("memory", ""))
        if request is not None and limit is not None and request > limit:
            self.fail(f"{path}.requests.memory", "above limits.memory")

    def baton(self, metadata, template_metadata, container):
        env = {item.get("name"): item for item in container.get("env", []) if isinstance(item, dict)}
        function = (env.get("BATON_FUNCTION") or {}).get("value")
        if function not in FUNCTIONS:
            self.fail("BATON_FUNCTION", f"{function!r}: expected one of {sorted(FUNCTIONS)}")
        for where, meta in (("metadata", metadata), ("spec.template.metadata", template_metadata)):
            component = (meta.get("labels") or {}).get("app.kubernetes.io/component")
            if component != function:
                self.fail(f"{where}.labels", f"app.kubernetes.io/component {component!r} does not match BATON_FUNCTION {function!r}")
        for name in ("BATON_CONFIG",):
            if name not in env:
                self.fail("env", f"{name} is not set")
        if "BATON_SIGNING_KEYS" not in env and "BATON_SIGNING_KEYS_FILE" not in env:
            self.fail("env", "no signing keys: BATON_SIGNING_KEYS or BATON_SIGNING_KEYS_FILE")
        if "value" in (env.get("BATON_SIGNING_KEYS") or {}):
            self.fail("env.BATON_SIGNING_KEYS", "private keys inline in the manifest; use a Secret")
        for probe_name in ("readinessProbe", "livenessProbe"):
            path = ((container.get(probe_name) or {}).get("httpGet") or {}).get("path")
            if path != "/health":
                self.fail(probe_name, f"must GET /health, found {path!r}")
        memory = (container.get("resources") or {})
        if not (memory.get("requests") or {}).get("memory") or not (memory.get("limits") or {}).get("memory"):
            self.fail("resources", "memory request and limit must be set")

    def kubernetes_schema(self, container, volumes):
        """The container and volumes against core/v1, by way of a synthetic Deployment."""
        try:
            import kubernetes_validate
        except ImportError:
            return
        # Knative fills in a probe's port (the serving port); core/v1 requires one.
        container = copy.deepcopy(container)
        port = ((container.get("ports") or [{}])[0]).get("containerPort", 8080)
        for probe_name in ("readinessProbe", "livenessProbe", "startupProbe"):
            for handler in ("httpGet", "tcpSocket", "grpc"):
                section = (container.get(probe_name) or {}).get(handler)
                if isinstance(section, dict) and "port" not in section:
                    section["port"] = port
        deployment = {
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "knative-check"},
            "spec": {
                "selector": {"matchLabels": {"app": "x"}},
                "template": {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [container], "volumes": volumes}},
            },
        }
        try:
            kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            location = ".".join(str(part) for part in error.path)
            self.fail("spec.template.spec (core/v1 schema)", f"{location}: {error.message}")


KUBERNETES_VERSION = "1.34.0"


def main(arguments):
    global KUBERNETES_VERSION
    if arguments[:1] == ["--kubernetes-version"] and len(arguments) > 1:
        KUBERNETES_VERSION = arguments[1]
        arguments = arguments[2:]
    if not arguments:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    problems = []
    for source in arguments:
        with open(source) as handle:
            documents = [document for document in yaml.safe_load_all(handle) if document is not None]
        if not documents:
            problems.append(f"{source}: no YAML document")
        for document in documents:
            checker = Checker(source)
            if not isinstance(document, dict):
                checker.fail("", "not a mapping")
            else:
                checker.check(document)
            problems.extend(checker.problems)
            if not checker.problems:
                print(f"ok {source}: {document.get('kind')}/{document.get('metadata', {}).get('name')}")
    for problem in problems:
        print(f"ERROR {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
