# The installable package: 'build.ps1 package -NoBuild' packs the module under test, then a fresh pwsh whose HOME and
# PSModulePath are temporary folders installs it with Install-PSResource from a temporary local repository and trains
# one tiny step with the installed copy. Measured on 2 shared cores: see docs/install.md.
BeforeDiscovery {
    $script:NotLinux = -not $IsLinux
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TinyRun.ps1')
    $script:ModulePath = (Resolve-Path $env:TACOTRON_MODULE_PATH).Path
    # build.ps1 lays the module out at <Output>/module/TacotronRecovery and packs it to <Output>/package/<rid>.
    $script:OutRoot = Split-Path (Split-Path $ModulePath)

    # A fresh pwsh: the current one when it is pwsh, else 'dotnet <PSHOME>/pwsh.dll' (pwsh as a .NET tool).
    function New-PwshStartInfo([string[]] $Arguments) {
        $self = [Environment]::ProcessPath
        $psi = if ([System.IO.Path]::GetFileNameWithoutExtension($self) -eq 'dotnet') {
            $p = [System.Diagnostics.ProcessStartInfo]::new($self)
            $p.ArgumentList.Add((Join-Path $PSHOME 'pwsh.dll'))
            $p
        } else { [System.Diagnostics.ProcessStartInfo]::new($self) }
        foreach ($a in @('-NoProfile', '-NonInteractive') + $Arguments) { $psi.ArgumentList.Add($a) }
        $psi.UseShellExecute = $false
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $psi
    }

    function Invoke-Pwsh([System.Diagnostics.ProcessStartInfo] $StartInfo, [int] $TimeoutSeconds) {
        $p = [System.Diagnostics.Process]::Start($StartInfo)
        $stdout = $p.StandardOutput.ReadToEndAsync()
        $stderr = $p.StandardError.ReadToEndAsync()
        if (-not $p.WaitForExit($TimeoutSeconds * 1000)) {
            $p.Kill($true)
            throw "pwsh $($StartInfo.ArgumentList -join ' ') did not finish within $TimeoutSeconds s."
        }
        [pscustomobject]@{ ExitCode = $p.ExitCode; Output = $stdout.Result + $stderr.Result }
    }

    if ($IsLinux) {
        $rid = "linux-$([System.Runtime.InteropServices.RuntimeInformation]::OSArchitecture.ToString().ToLowerInvariant())"
        $build = Join-Path $Repo 'build.ps1'
        $script:Pack = Measure-Command {
            $script:PackRun = Invoke-Pwsh (New-PwshStartInfo @('-File', $build, 'package', '-NoBuild', '-Output', $OutRoot)) 900
        }
        $script:Nupkg = Get-ChildItem (Join-Path $OutRoot "package/$rid") -Filter 'TacotronRecovery.*.nupkg' -ErrorAction SilentlyContinue |
            Select-Object -First 1
    }
}

Describe 'build.ps1 package' -Skip:$NotLinux {
    It 'packs the module into one .nupkg with the engine and libtorch' {
        $PackRun.ExitCode | Should -Be 0 -Because $PackRun.Output
        $Nupkg | Should -Not -BeNullOrEmpty
        Write-Host "package: $([math]::Round($Nupkg.Length / 1MB)) MB packed in $([math]::Round($Pack.TotalSeconds)) s"
        Add-Type -AssemblyName System.IO.Compression.FileSystem
        $zip = [System.IO.Compression.ZipFile]::OpenRead($Nupkg.FullName)
        try { $entries = $zip.Entries.FullName } finally { $zip.Dispose() }
        $entries | Should -Contain 'TacotronRecovery.psd1'
        $entries | Should -Contain 'engine/TacotronRecovery.Host.dll'
        $entries | Should -Contain 'engine/libtorch_cpu.so'
        $entries | Should -Contain 'engine/libLibTorchSharp.so'
        $entries | Should -Contain 'engine/licenses/libtorch-cpu-linux-x64.LICENSE-LIBTORCH.txt'
    }

    It 'installs with Install-PSResource into a fresh pwsh and trains one step with the installed copy' {
        $Nupkg | Should -Not -BeNullOrEmpty
        $repo = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'repo')
        Copy-Item $Nupkg.FullName $repo
        $userHome = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'home')
        # PSResourceGet installs CurrentUser modules under $HOME/.local/share/powershell/Modules on Linux and keeps its
        # repository list under $XDG_DATA_HOME (default $HOME/.local/share): a temporary HOME isolates both.
        $modules = Join-Path $userHome '.local/share/powershell/Modules'
        $config = New-TinyConfig (Join-Path $TestDrive 'tiny.yaml') -MaxSteps 1 -ValidationEverySteps 100 -TensorBoard $false
        $result = Join-Path $TestDrive 'result.json'
        $script = @"
`$ErrorActionPreference = 'Stop'
Register-PSResourceRepository -Name local -Uri '$repo' -Trusted
`$install = Measure-Command { Install-PSResource -Name TacotronRecovery -Repository local -Scope CurrentUser }
Import-Module TacotronRecovery
`$out = Start-TacotronTraining -Config '$config' -RunsRoot '$(Join-Path $TestDrive 'runs')' -Run tiny -MetricsInterval 1
@{
    InstallSeconds = `$install.TotalSeconds
    ModuleBase = (Get-Module TacotronRecovery).ModuleBase
    Status = "`$((`$out | Select-Object -Last 1).Status)"
    Steps = @(`$out | Where-Object { `$_ -is [TacotronRecovery.Core.Metrics.StepMetrics] } | ForEach-Object Step)
} | ConvertTo-Json | Set-Content '$result'
"@
        $psi = New-PwshStartInfo @('-Command', $script)
        $psi.Environment['HOME'] = $userHome.FullName
        $psi.Environment['PSModulePath'] = $modules
        # No engine override, and no NuGet cache under the temporary HOME: only the installed copy can run the step.
        foreach ($name in 'XDG_DATA_HOME', 'XDG_CONFIG_HOME', 'XDG_CACHE_HOME', 'TACOTRON_ENGINE_PATH', 'NUGET_PACKAGES') { $psi.Environment.Remove($name) | Out-Null }
        $run = Invoke-Pwsh $psi 900
        $run.ExitCode | Should -Be 0 -Because $run.Output
        $r = Get-Content -Raw $result | ConvertFrom-Json
        Write-Host "package: installed in $([math]::Round($r.InstallSeconds)) s"
        $r.ModuleBase | Should -BeLike "$modules*"
        Test-Path (Join-Path $r.ModuleBase 'engine/libtorch_cpu.so') | Should -BeTrue
        $r.Status | Should -Be 'Completed'
        @($r.Steps) | Should -Be @(1)
    }
}
