// pulumi-language-python is a small Python language host for the Pulumi engine.
//
// The setup script builds it only where neither the official installer nor the
// upstream language-host module can be reached. It implements the part of the
// LanguageRuntime protocol that `pulumi preview/up/refresh/destroy` need for a
// Python program whose dependencies are already installed in a virtualenv:
// it runs the program through the SDK's `pulumi-language-python-exec` script
// and reports how it ended. Everything that manages dependencies or generates
// code answers "unimplemented", which the engine tolerates.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"
	pbempty "google.golang.org/protobuf/types/known/emptypb"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "0.0.0-dev"

// bailExitCode is what the exec script returns after it has already shown the
// user an actionable message: the engine must then stop without adding its own.
const bailExitCode = 32

// engineCheckInterval is how often the host asks the engine whether it is still
// there: a CLI that was killed must not leave this host and its program behind.
const engineCheckInterval = time.Second

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	mu            sync.Mutex
	engineAddress string
	watching      bool
	programs      map[*exec.Cmd]struct{}
	engineGone    chan struct{}
}

func main() {
	h := &host{programs: map[*exec.Cmd]struct{}{}, engineGone: make(chan struct{})}
	h.watchEngine(lastPositional(os.Args[1:]))
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, h)
			return nil
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-python: %v\n", err)
		os.Exit(1)
	}
	// The engine reads the port from the first line of our stdout.
	fmt.Printf("%d\n", handle.Port)
	select {
	case err := <-handle.Done:
		if err != nil {
			fmt.Fprintf(os.Stderr, "pulumi-language-python: %v\n", err)
			os.Exit(1)
		}
	case <-h.engineGone:
		h.stopPrograms()
		os.Exit(1)
	}
}

// watchEngine starts the engine health check once its address is known: the
// upstream hosts do the same, so an interrupted `pulumi` leaves nothing running.
func (h *host) watchEngine(address string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if address == "" || h.watching {
		return
	}
	h.watching = true
	ctx, cancel := context.WithCancel(context.Background())
	if err := rpcutil.Healthcheck(ctx, address, engineCheckInterval, cancel); err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-python: cannot watch the engine at %s: %v\n", address, err)
		return
	}
	go func() {
		<-ctx.Done()
		close(h.engineGone)
	}()
}

// stopPrograms ends every program still running, giving each a moment before it
// is killed, then returns so the host can exit.
func (h *host) stopPrograms() {
	h.mu.Lock()
	running := make([]*exec.Cmd, 0, len(h.programs))
	for cmd := range h.programs {
		running = append(running, cmd)
	}
	h.mu.Unlock()
	for _, cmd := range running {
		_ = cmd.Process.Signal(syscall.SIGTERM)
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, cmd := range running {
		for time.Now().Before(deadline) && cmd.ProcessState == nil && cmd.Process.Signal(syscall.Signal(0)) == nil {
			time.Sleep(100 * time.Millisecond)
		}
		_ = cmd.Process.Kill()
	}
}

// lastPositional returns the engine address, the one positional argument the
// engine passes; older engines put flags before it.
func lastPositional(args []string) string {
	for i := len(args) - 1; i >= 0; i-- {
		if !strings.HasPrefix(args[i], "-") {
			return args[i]
		}
	}
	return ""
}

func (h *host) Handshake(
	_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.mu.Lock()
	h.engineAddress = req.GetEngineAddress()
	h.mu.Unlock()
	h.watchEngine(req.GetEngineAddress())
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) GetPluginInfo(context.Context, *pbempty.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

// Plugins are resolved by the engine when resources register; nothing is
// installed ahead of time.
func (h *host) GetRequiredPlugins(
	context.Context, *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

func (h *host) GetRequiredPackages(
	context.Context, *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

func (h *host) GetProgramDependencies(
	context.Context, *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	return &pulumirpc.GetProgramDependenciesResponse{}, nil
}

func (h *host) About(_ context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	python := pythonFor(req.GetInfo())
	out, err := exec.Command(python, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("running %s --version: %w", python, err)
	}
	return &pulumirpc.AboutResponse{
		Executable: python,
		Version:    strings.TrimPrefix(strings.TrimSpace(string(out)), "Python "),
	}, nil
}

// InstallDependencies has nothing to do: the project's setup owns the virtualenv.
func (h *host) InstallDependencies(
	*pulumirpc.InstallDependenciesRequest, grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse],
) error {
	return nil
}

func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	info := req.GetInfo()
	script, err := execScript()
	if err != nil {
		return nil, err
	}
	config, err := json.Marshal(nonNilMap(req.GetConfig()))
	if err != nil {
		return nil, fmt.Errorf("encoding config: %w", err)
	}
	secretKeys, err := json.Marshal(nonNil(req.GetConfigSecretKeys()))
	if err != nil {
		return nil, fmt.Errorf("encoding secret config keys: %w", err)
	}
	h.mu.Lock()
	engine := h.engineAddress
	h.mu.Unlock()

	args := []string{
		script,
		"--monitor", req.GetMonitorAddress(),
		"--engine", engine,
		"--project", req.GetProject(),
		"--stack", req.GetStack(),
		"--pwd", req.GetPwd(),
		"--dry_run", strconv.FormatBool(req.GetDryRun()),
		"--parallel", strconv.Itoa(int(req.GetParallel())),
		"--organization", req.GetOrganization(),
	}
	if root := info.GetRootDirectory(); root != "" {
		args = append(args, "--root_directory", root)
	}
	args = append(args, programPath(req))
	args = append(args, req.GetArgs()...)

	python := pythonFor(info)
	cmd := exec.CommandContext(ctx, python, args...)
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	cmd.Dir = req.GetPwd()
	cmd.Env = append(withVirtualenv(os.Environ(), python),
		"PULUMI_CONFIG="+string(config),
		"PULUMI_CONFIG_SECRET_KEYS="+string(secretKeys),
		"PYTHONUNBUFFERED=1",
	)
	// On cancellation (the engine gave up on the run, e.g. after a failed resource) end the program
	// quietly: SIGINT would print a KeyboardInterrupt traceback under the real error.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second

	if err = cmd.Start(); err == nil {
		h.mu.Lock()
		h.programs[cmd] = struct{}{}
		h.mu.Unlock()
		err = cmd.Wait()
		h.mu.Lock()
		delete(h.programs, cmd)
		h.mu.Unlock()
	}
	var exit *exec.ExitError
	switch {
	case err == nil:
		return &pulumirpc.RunResponse{}, nil
	case errors.As(err, &exit) && exit.ExitCode() == bailExitCode:
		return &pulumirpc.RunResponse{Bail: true}, nil
	case errors.As(err, &exit):
		return &pulumirpc.RunResponse{
			Error: fmt.Sprintf("the Python program exited with code %d", exit.ExitCode()),
		}, nil
	default:
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("starting %s: %v", python, err)}, nil
	}
}

// programPath is the file or directory the exec script hands to runpy.
func programPath(req *pulumirpc.RunRequest) string {
	info := req.GetInfo()
	if info == nil {
		return req.GetProgram()
	}
	entry := info.GetEntryPoint()
	if entry == "" {
		entry = "."
	}
	return filepath.Join(info.GetProgramDirectory(), entry)
}

// pythonFor picks the interpreter: PULUMI_PYTHON_CMD, else the project's
// `virtualenv` runtime option, else python3 on PATH.
func pythonFor(info *pulumirpc.ProgramInfo) string {
	if cmd := os.Getenv("PULUMI_PYTHON_CMD"); cmd != "" {
		return cmd
	}
	if venv := virtualenvOption(info); venv != "" {
		if !filepath.IsAbs(venv) {
			venv = filepath.Join(info.GetRootDirectory(), venv)
		}
		return filepath.Join(venv, "bin", "python")
	}
	return "python3"
}

func virtualenvOption(info *pulumirpc.ProgramInfo) string {
	if info.GetOptions() == nil {
		return ""
	}
	if v, ok := info.GetOptions().GetFields()["virtualenv"]; ok {
		return v.GetStringValue()
	}
	return ""
}

// withVirtualenv puts the interpreter's bin directory first on PATH, so that
// tools the program starts come from the same environment.
func withVirtualenv(env []string, python string) []string {
	if !filepath.IsAbs(python) {
		return env
	}
	bin := filepath.Dir(python)
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if strings.HasPrefix(kv, "PATH=") {
			kv = "PATH=" + bin + string(os.PathListSeparator) + strings.TrimPrefix(kv, "PATH=")
		}
		out = append(out, kv)
	}
	return append(out, "VIRTUAL_ENV="+filepath.Dir(bin))
}

// execScript finds pulumi-language-python-exec beside this binary, else on PATH.
func execScript() (string, error) {
	const name = "pulumi-language-python-exec"
	if self, err := os.Executable(); err == nil {
		candidate := filepath.Join(filepath.Dir(self), name)
		if _, err := os.Stat(candidate); err == nil {
			return candidate, nil
		}
	}
	path, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s not found beside the language host or on PATH: %w", name, err)
	}
	return path, nil
}

// The SDK reads PULUMI_CONFIG as an object; a stack without config must still send "{}".
func nonNilMap(config map[string]string) map[string]string {
	if config == nil {
		return map[string]string{}
	}
	return config
}

func nonNil(keys []string) []string {
	if keys == nil {
		return []string{}
	}
	return keys
}
