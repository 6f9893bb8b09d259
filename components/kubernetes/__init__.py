"""The Studio on any Kubernetes cluster with a GPU: pulumi-kubernetes objects addressed by a kubeconfig.

Modules: settings (the stack's keys and rules), catalog (names, labels, GPU node types and their dated prices),
pricing (the cost estimate), kubeconfig and cluster (reading a kubeconfig, a small bounded API client for the
checks), objects (every object's manifest, pure functions), preflight (reach, ownership and GPU checks before
any write), rollout (a bounded wait that says why a pod cannot run), diagnose (pod, claim and event states in
words), studio (the deploy), platform (the object the registry holds).
"""
