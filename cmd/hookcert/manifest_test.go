package main

import (
	"bytes"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// kubernetesManifest returns the YAML documents of the README's Kubernetes
// Indexed Job example: the block that follows "As a Kubernetes Indexed Job".
func kubernetesManifest(t *testing.T) [][]byte {
	t.Helper()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := bytes.Cut(readme, []byte("As a Kubernetes Indexed Job"))
	if !ok {
		t.Fatal(`the README has no "As a Kubernetes Indexed Job" example`)
	}
	_, block, ok := bytes.Cut(after, []byte("```yaml\n"))
	if !ok {
		t.Fatal("the Kubernetes example has no yaml block")
	}
	block, _, ok = bytes.Cut(block, []byte("```"))
	if !ok {
		t.Fatal("the Kubernetes example's yaml block does not end")
	}
	var docs [][]byte
	for _, d := range regexp.MustCompile(`(?m)^---$`).Split(string(block), -1) {
		if strings.TrimSpace(d) != "" {
			docs = append(docs, []byte(d))
		}
	}
	return docs
}

// TestTheREADMEsKubernetesManifestIsValid parses the README's Kubernetes
// example strictly against the Kubernetes types it declares (batch/v1 Job,
// v1 PersistentVolumeClaim): a misspelt or misplaced field fails, as
// kubectl apply would refuse it. It also checks that the example does what
// its text says (four generators of 250/s at once, Indexed, a merge that
// exits with the verdict) and that every flag it gives hookcert exists.
func TestTheREADMEsKubernetesManifestIsValid(t *testing.T) {
	t.Parallel()
	var jobs []batchv1.Job
	claims := 0
	for i, doc := range kubernetesManifest(t) {
		var meta struct{ APIVersion, Kind string }
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			t.Fatalf("document %d: %v", i+1, err)
		}
		switch meta.APIVersion + " " + meta.Kind {
		case "batch/v1 Job":
			var job batchv1.Job
			if err := yaml.UnmarshalStrict(doc, &job); err != nil {
				t.Fatalf("document %d, a Job: %v", i+1, err)
			}
			jobs = append(jobs, job)
		case "v1 PersistentVolumeClaim":
			var pvc corev1.PersistentVolumeClaim
			if err := yaml.UnmarshalStrict(doc, &pvc); err != nil {
				t.Fatalf("document %d, a PersistentVolumeClaim: %v", i+1, err)
			}
			if !slices.Contains(pvc.Spec.AccessModes, corev1.ReadWriteMany) {
				t.Errorf("the claim %s is not ReadWriteMany: the generators write to it at once", pvc.Name)
			}
			claims++
		default:
			t.Fatalf("document %d is a %s %s, which the README does not describe", i+1, meta.APIVersion, meta.Kind)
		}
	}
	if len(jobs) != 2 || claims != 1 {
		t.Fatalf("%d jobs and %d claims, want the generators' job, the merge job and the results claim", len(jobs), claims)
	}
	gen, merge := jobs[0], jobs[1]
	if gen.Spec.CompletionMode == nil || *gen.Spec.CompletionMode != batchv1.IndexedCompletion ||
		gen.Spec.Completions == nil || gen.Spec.Parallelism == nil || *gen.Spec.Completions != 4 || *gen.Spec.Parallelism != 4 {
		t.Errorf("the generators' job is not four Indexed pods at once: %+v", gen.Spec)
	}
	args := strings.Join(gen.Spec.Template.Spec.Containers[0].Args, " ")
	if !strings.Contains(args, "hookcert load") || !strings.Contains(args, "--rate 250") || !strings.Contains(args, "$JOB_COMPLETION_INDEX") {
		t.Errorf("the generators do not each load at 250/s under their own name: %s", args)
	}
	if margs := strings.Join(merge.Spec.Template.Spec.Containers[0].Args, " "); !strings.Contains(margs, "hookcert report") || !strings.Contains(margs, "hookcert status") {
		t.Errorf("the merge job does not merge and exit with the verdict: %s", margs)
	}
	// Every flag the generators give hookcert load is one it has.
	usage := hookcert(t, "", nil, "load", "-h")
	for _, flag := range regexp.MustCompile(`--([a-z-]+)`).FindAllStringSubmatch(args, -1) {
		if !strings.Contains(usage.stderr+usage.stdout, "-"+flag[1]+" ") {
			t.Errorf("hookcert load has no --%s flag, which the README's manifest gives it", flag[1])
		}
	}
}
