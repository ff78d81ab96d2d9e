// DatasetQuant build: ./build.sh --target=<Bootstrap|Build|Test|Publish|Bench|Demo> [--configuration=Release]
// Publish takes --rid=linux-x64|linux-arm64 and --aot. Test and Demo run Bootstrap first, so a fresh machine needs
// nothing else. See docs/building.md.
using System.Security.Cryptography;
using System.Text.RegularExpressions;

var target = Argument("target", "Test");
var configuration = Argument("configuration", "Release");
var rid = Argument("rid", "linux-x64");
var aot = HasArgument("aot") && Argument("aot", "true") != "false";
var benchFilter = Argument("filter", "*");

var root = MakeAbsolute(Directory("."));
var solution = root.CombineWithFilePath("DatasetQuant.sln");
var artifacts = root.Combine("artifacts");
var testResults = artifacts.Combine("test-results");
const string OnnxRuntimeVersion = "1.30.0";
var onnxRuntimeRids = new[] { "linux-x64", "linux-arm64" };

// Same rule as NativeLibraryResolver.CacheRoot.
string CacheRoot()
{
    var explicitRoot = EnvironmentVariable("DQ_CACHE_DIR");
    if (!string.IsNullOrEmpty(explicitRoot)) return explicitRoot;
    var xdg = EnvironmentVariable("XDG_CACHE_HOME");
    var baseDir = string.IsNullOrEmpty(xdg) ? System.IO.Path.Combine(EnvironmentVariable("HOME"), ".cache") : xdg;
    return System.IO.Path.Combine(baseDir, "datasetquant");
}

int Run(string tool, string arguments, string workingDirectory = null, IDictionary<string, string> env = null)
{
    var settings = new ProcessSettings { Arguments = arguments, WorkingDirectory = workingDirectory ?? root.FullPath };
    if (env != null) settings.EnvironmentVariables = env;
    return StartProcess(tool, settings);
}

void RunChecked(string tool, string arguments, string workingDirectory = null, IDictionary<string, string> env = null)
{
    var code = Run(tool, arguments, workingDirectory, env);
    if (code != 0) throw new CakeException($"'{tool} {arguments}' exited with {code}.");
}

(int Code, string Output) Capture(string tool, string arguments)
{
    var code = StartProcess(tool, new ProcessSettings { Arguments = arguments, RedirectStandardOutput = true, RedirectStandardError = true },
        out var stdout, out var stderr);
    return (code, string.Join("\n", stdout.Concat(stderr)));
}

bool IsRoot() => Capture("id", "-u").Output.Trim() == "0";

bool HasCommand(string name) => Run("sh", $"-c \"command -v {name} >/dev/null 2>&1\"") == 0;

string Sha256(string path)
{
    using var stream = System.IO.File.OpenRead(path);
    return Convert.ToHexString(SHA256.HashData(stream)).ToLowerInvariant();
}

Task("Bootstrap")
    .Description("Installs the Debian packages and the ONNX Runtime native library the project needs; skips what is present.")
    .Does(() =>
{
    var wanted = System.IO.File.ReadAllLines(root.CombineWithFilePath("eng/apt-packages.txt").FullPath)
        .Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith("#")).ToList();
    if (!HasCommand("npm")) wanted.Add("npm");
    var missing = wanted.Where(p => !Capture("dpkg-query", $"-W -f=${{Status}} {p}").Output.Contains("install ok installed")).ToList();
    if (missing.Count == 0)
    {
        Information("Debian packages: all {0} present.", wanted.Count);
    }
    else
    {
        Information("Debian packages to install: {0}", string.Join(" ", missing));
        var sudo = IsRoot() ? "" : "sudo ";
        var env = new Dictionary<string, string> { ["DEBIAN_FRONTEND"] = "noninteractive" };
        RunChecked("sh", $"-c \"{sudo}apt-get update -qq\"", env: env);
        RunChecked("sh", $"-c \"{sudo}apt-get install -y -qq --no-install-recommends {string.Join(" ", missing)}\"", env: env);
    }

    var expected = System.IO.File.ReadAllLines(root.CombineWithFilePath("eng/onnxruntime.sha256").FullPath)
        .Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith("#"))
        .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        .ToDictionary(p => p[1], p => p[0]);
    string CachedPath(string r) => System.IO.Path.Combine(CacheRoot(), "onnxruntime", OnnxRuntimeVersion, r, "libonnxruntime.so.1");
    var stale = onnxRuntimeRids.Where(r => !System.IO.File.Exists(CachedPath(r)) || Sha256(CachedPath(r)) != expected[r]).ToList();
    if (stale.Count == 0)
    {
        Information("ONNX Runtime {0}: cached for {1}.", OnnxRuntimeVersion, string.Join(", ", onnxRuntimeRids));
        return;
    }

    var work = System.IO.Directory.CreateTempSubdirectory("dq-ort-").FullName;
    try
    {
        Information("ONNX Runtime {0}: fetching onnxruntime-node@{0} from npm for {1}.", OnnxRuntimeVersion, string.Join(", ", stale));
        RunChecked("npm", $"pack --silent onnxruntime-node@{OnnxRuntimeVersion}", work);
        var tarball = System.IO.Path.Combine(work, $"onnxruntime-node-{OnnxRuntimeVersion}.tgz");
        foreach (var r in stale)
        {
            var arch = r == "linux-x64" ? "x64" : "arm64";
            var member = $"package/bin/napi-v6/linux/{arch}/libonnxruntime.so.1";
            RunChecked("tar", $"-xzf {tarball} {member}", work);
            var extracted = System.IO.Path.Combine(work, member);
            var actual = Sha256(extracted);
            if (actual != expected[r])
                throw new CakeException($"{member} from onnxruntime-node@{OnnxRuntimeVersion} has SHA-256 {actual}, expected {expected[r]} (eng/onnxruntime.sha256). Refusing to install it.");
            var destination = CachedPath(r);
            System.IO.Directory.CreateDirectory(System.IO.Path.GetDirectoryName(destination));
            System.IO.File.Copy(extracted, destination + ".tmp", overwrite: true);
            System.IO.File.Move(destination + ".tmp", destination, overwrite: true);
            Information("ONNX Runtime {0}: {1} installed and verified.", r, destination);
        }
    }
    finally
    {
        System.IO.Directory.Delete(work, recursive: true);
    }
});

Task("Build")
    .Description("Builds the solution (warnings are errors).")
    .Does(() =>
{
    DotNetBuild(solution.FullPath, new DotNetBuildSettings { Configuration = configuration });
});

Task("Test")
    .Description("Runs every test project, then the SIMD-sensitive tests again with hardware intrinsics off; prints the totals.")
    .IsDependentOn("Bootstrap")
    .IsDependentOn("Build")
    .Does(() =>
{
    CleanDirectory(testResults);
    var failures = 0;
    void RunTests(string project, string name, string filter, IDictionary<string, string> env)
    {
        var args = $"test {project} -c {configuration} --no-build --logger \"trx;LogFileName={name}.trx\" --results-directory {testResults}";
        if (filter != null) args += $" --filter \"{filter}\"";
        if (Run("dotnet", args, env: env) != 0) failures++;
    }

    foreach (var project in GetFiles(root.FullPath + "/tests/**/*.Tests.csproj").OrderBy(p => p.FullPath))
    {
        RunTests(project.FullPath, project.GetFilenameWithoutExtension().FullPath, null, null);
    }

    // The vectorised decode and pack paths have scalar tails and fallbacks: run those tests with intrinsics off too.
    var scalarEnv = new Dictionary<string, string> { ["DOTNET_EnableHWIntrinsic"] = "0" };
    foreach (var project in GetFiles(root.FullPath + "/tests/**/*.Tests.csproj").OrderBy(p => p.FullPath))
    {
        if (System.IO.File.ReadAllText(project.FullPath).Contains("<HasScalarPathTests>true</HasScalarPathTests>"))
            RunTests(project.FullPath, project.GetFilenameWithoutExtension().FullPath + ".scalar", "Category=Simd", scalarEnv);
    }

    var totals = new long[4];
    foreach (var trx in GetFiles(testResults.FullPath + "/*.trx"))
    {
        var counters = Regex.Match(System.IO.File.ReadAllText(trx.FullPath), "<Counters [^>]*>");
        long Count(string name) => long.Parse(Regex.Match(counters.Value, $" {name}=\"(\\d+)\"").Groups[1].Value);
        totals[0] += Count("passed");
        totals[1] += Count("failed") + Count("error") + Count("timeout") + Count("aborted");
        totals[2] += Count("notExecuted");
    }

    var summary = $"{totals[0]} passed, {totals[1]} failed, {totals[2]} skipped";
    System.IO.File.WriteAllText(testResults.CombineWithFilePath("summary.txt").FullPath, summary + "\n");
    Information(summary);
    if (failures > 0 || totals[1] > 0) throw new CakeException($"{failures} test run(s) failed.");
});

Task("Publish")
    .Description("Publishes dq, dq-coordinator and dq-agent for --rid under artifacts/publish; --aot makes dq-agent a NativeAOT binary.")
    .IsDependentOn("Bootstrap")
    .Does(() =>
{
    var hosts = new[] { ("src/DatasetQuant.Cli/DatasetQuant.Cli.csproj", false),
                        ("src/DatasetQuant.Coordinator/DatasetQuant.Coordinator.csproj", false),
                        ("src/DatasetQuant.Agent/DatasetQuant.Agent.csproj", true) };
    foreach (var (path, agent) in hosts)
    {
        var project = root.CombineWithFilePath(path);
        if (!FileExists(project)) continue;
        var name = project.GetFilenameWithoutExtension().FullPath.Replace("DatasetQuant.", "").ToLowerInvariant();
        var output = artifacts.Combine($"publish/{rid}/{name}");
        var args = $"publish {project.FullPath} -c {configuration} -r {rid} -o {output}";
        if (agent && aot)
        {
            // Symbols stripped and managed .pdb files left out: DatasetQuant.Agent.csproj, under PublishAot.
            args += " -p:PublishAot=true";
        }
        else
        {
            args += " --self-contained false";
        }

        var (code, log) = Capture("dotnet", args);
        Information(log);
        if (code != 0)
        {
            var missing = Regex.Matches(log, @"Unable to find package ([\w\.\-]+)").Select(m => m.Groups[1].Value.TrimEnd('.')).Distinct().ToArray();
            if (missing.Length > 0)
                throw new CakeException($"Publishing {name} for {rid} needs {string.Join(", ", missing)}, which the package feed here does not have. " +
                    $"Publish for {rid} on a machine whose feed has the .NET runtime and ILCompiler packs for {rid} (see docs/building.md).");
            throw new CakeException($"dotnet publish {name} for {rid} failed (exit {code}).");
        }

        Information("{0} published to {1}", name, output);
    }
});

Task("Bench")
    .Description("Runs the BenchmarkDotNet suite (--filter=<glob> selects benchmarks).")
    .Does(() =>
{
    RunChecked("dotnet", $"run -c Release --project tests/DatasetQuant.Benchmarks -- --filter \"{benchFilter}\" --artifacts {artifacts.Combine("benchmarks")}");
});

Task("Demo")
    .Description("The end-to-end demo on Fashion-MNIST (see README.md).")
    .IsDependentOn("Bootstrap")
    .IsDependentOn("Build")
    .Does(() =>
{
    RunChecked("bash", "eng/demo.sh", env: new Dictionary<string, string> { ["DQ_CONFIGURATION"] = configuration });
});

Task("Default").IsDependentOn("Test");

RunTarget(target);
