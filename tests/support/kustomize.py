"""The part of kustomize ``deploy/k8s`` uses, in Python (no kustomize binary can be
installed from the package registries here): ``resources`` (files and directories
with their own ``kustomization.yaml``), ``namespace``, ``labels`` (metadata only, as
kustomize does without ``includeSelectors``), ``images`` and ``patches`` (strategic
merge: maps merge, lists of named items merge by ``name``, other lists are replaced).
Anything else in a kustomization is refused, so the manifests cannot quietly use more
than is rendered here."""

import copy
import pathlib

import yaml

SUPPORTED = {"apiVersion", "kind", "resources", "namespace", "labels", "images", "patches"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition"}


def build(directory):
    """The objects ``kubectl apply -k directory`` would apply."""
    directory = pathlib.Path(directory)
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unknown = set(kustomization) - SUPPORTED
    assert not unknown, f"{directory}: kustomize fields not rendered here: {unknown}"
    objects = []
    for resource in kustomization.get("resources", []):
        path = directory / resource
        if path.is_dir():
            objects.extend(build(path))
        else:
            objects.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
    for patch in kustomization.get("patches", []):
        for change in yaml.safe_load_all((directory / patch["path"]).read_text()):
            target = find(objects, change["kind"], change["metadata"]["name"])
            merged = merge(target, change)
            objects[objects.index(target)] = merged
    for entry in kustomization.get("labels", []):
        for obj in objects:
            obj.setdefault("metadata", {}).setdefault("labels", {}).update(entry["pairs"])
    for image in kustomization.get("images", []):
        for obj in objects:
            for container in containers(obj):
                if container["image"].split(":")[0] == image["name"]:
                    name = image.get("newName", image["name"])
                    container["image"] = f"{name}:{image['newTag']}"
    namespace = kustomization.get("namespace")
    if namespace:
        for obj in objects:
            if obj["kind"] not in CLUSTER_SCOPED:
                obj["metadata"]["namespace"] = namespace
    return objects


def find(objects, kind, name):
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(found) == 1, f"a patch names {kind}/{name}, found {len(found)}"
    return found[0]


def containers(obj):
    spec = obj.get("spec", {}).get("template", {}).get("spec", {})
    return spec.get("containers", []) if obj["kind"] in ("Deployment", "StatefulSet") else []


def merge(base, change):
    if isinstance(base, dict) and isinstance(change, dict):
        merged = copy.deepcopy(base)
        for key, value in change.items():
            merged[key] = merge(base[key], value) if key in base else copy.deepcopy(value)
        return merged
    if isinstance(base, list) and isinstance(change, list) and named(base) and named(change):
        merged = copy.deepcopy(base)
        for item in change:
            same = [i for i, old in enumerate(merged) if old["name"] == item["name"]]
            if same:
                merged[same[0]] = merge(merged[same[0]], item)
            else:
                merged.append(copy.deepcopy(item))
        return merged
    return copy.deepcopy(change)


def named(items):
    return all(isinstance(item, dict) and "name" in item for item in items)
