# The kill -9 soak, bounded for CI (tools/soak/kill9.ps1; the long run is `build.ps1 killsoak -Minutes N`, figures in
# docs/robustness.md): SIGKILL the engine and, separately, the supervisor of one tiny run at random moments, resume after
# each, then every checkpoint in the manifest verifies, the newest is at most one interval behind the last step, the
# metrics' current timeline has no gap and every step going back is a Resumed event. Linux only (SIGKILL, /proc).

Describe 'kill -9 soak' -Skip:(-not $IsLinux) {
    It 'survives 8 kill rounds of engine and supervisor with nothing lost, in under 3 minutes' {
        $soak = Join-Path $PSScriptRoot '../../tools/soak/kill9.ps1'
        $r = & $soak -ModulePath $env:TACOTRON_MODULE_PATH -WorkDir (Join-Path $TestDrive 'kill9') -Kills 8 -Minutes 2 6>$null
        $r.Failures | Should -BeNullOrEmpty -Because "seed $($r.Seed) (replay: tools/soak/kill9.ps1 -Seed $($r.Seed) -Keep)"
        $r.Rounds | Should -BeGreaterOrEqual 4
        $r.EngineKills | Should -BeGreaterThan 0
        $r.SupervisorKills | Should -BeGreaterThan 0
        $r.ResumedEvents | Should -BeGreaterThan 0
        $r.Checks[-1].LastStep | Should -BeGreaterThan $r.Checks[0].LastStep
        $r.Seconds | Should -BeLessThan 180
    }
}
