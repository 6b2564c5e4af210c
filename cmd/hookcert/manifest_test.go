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
// its text says (four generators of 250/s at once, Indexed, each named by
// its index without a shell, failing its pod only when its run could not
// be made, and a merge that exits with the verdict) and that every flag it
// gives hookcert exists. The image test (build tag image) runs the pods'
// containers.
func TestTheREADMEsKubernetesManifestIsValid(t *testing.T) {
	t.Parallel()
	gen, merge := readmeJobs(t)
	if gen.Spec.CompletionMode == nil || *gen.Spec.CompletionMode != batchv1.IndexedCompletion ||
		gen.Spec.Completions == nil || gen.Spec.Parallelism == nil || *gen.Spec.Completions != 4 || *gen.Spec.Parallelism != 4 {
		t.Errorf("the generators' job is not four Indexed pods at once: %+v", gen.Spec)
	}
	g, m := onlyContainer(t, gen), onlyContainer(t, merge)
	for _, c := range []corev1.Container{g, m} {
		// The image has no shell: the entrypoint is hookcert itself.
		if len(c.Command) > 0 || slices.Contains(c.Args, "sh") || slices.Contains(c.Args, "-c") {
			t.Errorf("the %s container runs a shell, which the image does not have: command %q, args %q", c.Name, c.Command, c.Args)
		}
	}
	args := strings.Join(g.Args, " ")
	for _, want := range []string{"load ", "--rate 250 ", "--attacker gen-$(JOB_COMPLETION_INDEX) ",
		"--report-dir /results/gen-$(JOB_COMPLETION_INDEX) ", "--fail-on cannot-run"} {
		if !strings.Contains(args+" ", want) {
			t.Errorf("the generators' args do not have %q: %s", want, args)
		}
	}
	// Kubernetes expands $(NAME) in args from the container's environment:
	// the index is declared there from the pod's annotation, as the Job
	// controller of an Indexed Job would add it, so that the reference
	// does not rest on the controller.
	i := slices.IndexFunc(g.Env, func(v corev1.EnvVar) bool { return v.Name == "JOB_COMPLETION_INDEX" })
	if i < 0 || g.Env[i].ValueFrom == nil || g.Env[i].ValueFrom.FieldRef == nil ||
		g.Env[i].ValueFrom.FieldRef.FieldPath != "metadata.annotations['"+batchv1.JobCompletionIndexAnnotation+"']" {
		t.Errorf("the generator does not declare JOB_COMPLETION_INDEX from the %s annotation: %+v", batchv1.JobCompletionIndexAnnotation, g.Env)
	}
	if margs := strings.Join(m.Args, " "); !strings.HasPrefix(margs, "report ") || !strings.Contains(margs, "--from /results ") ||
		!slices.Contains(m.Args, "--status") {
		t.Errorf("the merge job does not merge every generator's report and exit with the verdict: %s", margs)
	}
	// Every flag the manifest gives hookcert is one it has.
	for _, c := range []corev1.Container{g, m} {
		usage := hookcert(t, "", nil, c.Args[0], "-h")
		for _, flag := range regexp.MustCompile(`(?:^| )--([a-z-]+)`).FindAllStringSubmatch(strings.Join(c.Args, " "), -1) {
			if !regexp.MustCompile(`(?m)-` + regexp.QuoteMeta(flag[1]) + `( |$)`).MatchString(usage.stderr + usage.stdout) {
				t.Errorf("hookcert %s has no --%s flag, which the README's manifest gives it", c.Args[0], flag[1])
			}
		}
	}
}

// readmeJobs parses the README's Kubernetes example strictly and returns
// its two Jobs, the generators' and the merge.
func readmeJobs(t *testing.T) (gen, merge batchv1.Job) {
	t.Helper()
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
	return jobs[0], jobs[1]
}

// onlyContainer returns the one container of a Job's pods.
func onlyContainer(t *testing.T, job batchv1.Job) corev1.Container {
	t.Helper()
	if n := len(job.Spec.Template.Spec.Containers); n != 1 || len(job.Spec.Template.Spec.InitContainers) > 0 {
		t.Fatalf("the job %s has %d containers (and %d init containers), want one", job.Name, n, len(job.Spec.Template.Spec.InitContainers))
	}
	c := job.Spec.Template.Spec.Containers[0]
	if len(c.Args) == 0 {
		t.Fatalf("the job %s's container gives hookcert no command", job.Name)
	}
	return c
}
