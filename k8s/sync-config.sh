#!/usr/bin/env sh
# Copies the canonical application config, routes and game-pod template from src/main/resources
# into k8s/base/config, where Kustomize's configMapGenerator can read them (its load restrictor
# refuses files outside the kustomization's folder). KustomizeManifestsTest fails when they differ.
set -eu
cd "$(dirname "$0")/.."
rm -f k8s/base/config/routes/*.yaml
cp src/main/resources/application.yaml src/main/resources/application-cluster.yaml \
   src/main/resources/pod-template.yaml k8s/base/config/
cp src/main/resources/routes/*.yaml k8s/base/config/routes/
echo "k8s/base/config synced; list any new route file under configMapGenerator paia-routes in k8s/base/kustomization.yaml"
