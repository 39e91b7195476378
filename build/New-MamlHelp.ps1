<#
.SYNOPSIS
    Writes the MAML help file (<Assembly>.dll-Help.xml) of a binary module from its cmdlets' XML doc comments.
.DESCRIPTION
    Reads every public [Cmdlet] type of the assembly (verb, noun, parameter sets, each [Parameter] property with its
    type, Mandatory, Position, pipeline input, aliases, ValidateSet or enum values and default value, and the
    [OutputType] types) and the compiler's documentation file (<Assembly>.xml), in which a cmdlet documents itself as

        <summary>
          <para type="synopsis">One line.</para>
          <para type="description">Paragraph.</para>            (one or more)
          <example><code>Verb-Noun -Param x</code><para>What it does.</para></example>   (one or more)
        </summary>

    and each parameter property as <summary><para type="description">Text.</para></summary> (or plain summary
    text). Writes MAML as PowerShell's own help files have it, so Get-Help shows synopsis, description, syntax,
    parameters, inputs, outputs and examples.

    Fails (throws, so 'pwsh -File' exits 1) naming the cmdlet and what is missing when a cmdlet has no synopsis,
    no description, an undocumented parameter, or no example with code. Nothing is written then.

    The assembly is read in a collectible AssemblyLoadContext from memory (no file stays open or locked), but the
    types stay loaded for the life of the process: run the script in its own process, e.g.
        pwsh -NoProfile -File build/New-MamlHelp.ps1 -AssemblyPath <module>/TacotronRecovery.Cmdlets.dll
.PARAMETER AssemblyPath
    The cmdlet assembly (in the module folder, next to the assemblies it references).
.PARAMETER DocumentationPath
    The compiler's XML documentation file. Default: the assembly path with the extension .xml.
.PARAMETER OutputPath
    The MAML file to write. Default: <AssemblyPath>-Help.xml (e.g. TacotronRecovery.Cmdlets.dll-Help.xml).
.EXAMPLE
    pwsh -NoProfile -File build/New-MamlHelp.ps1 -AssemblyPath out/module/TacotronRecovery/TacotronRecovery.Cmdlets.dll
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)]
    [string] $AssemblyPath,
    [string] $DocumentationPath,
    [string] $OutputPath
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$AssemblyPath = [System.IO.Path]::GetFullPath($AssemblyPath)
if (-not (Test-Path -LiteralPath $AssemblyPath -PathType Leaf)) { throw "New-MamlHelp: assembly '$AssemblyPath' does not exist." }
if (-not $DocumentationPath) { $DocumentationPath = [System.IO.Path]::ChangeExtension($AssemblyPath, '.xml') }
$DocumentationPath = [System.IO.Path]::GetFullPath($DocumentationPath)
if (-not (Test-Path -LiteralPath $DocumentationPath -PathType Leaf)) {
    throw "New-MamlHelp: documentation file '$DocumentationPath' does not exist (is GenerateDocumentationFile on?)."
}
if (-not $OutputPath) { $OutputPath = "$AssemblyPath-Help.xml" }
$OutputPath = [System.IO.Path]::GetFullPath($OutputPath)
$AssemblyDir = [System.IO.Path]::GetDirectoryName($AssemblyPath)

# --- Loading --------------------------------------------------------------------------------------------------------
# System.Management.Automation and the framework resolve from the default context (the running pwsh), so the
# attribute types are the ones this script knows. Other references (TacotronRecovery.Core, ...) are read from the
# assembly's folder as bytes: nothing is locked, a later build can overwrite the files.
$script:LoadContext = [System.Runtime.Loader.AssemblyLoadContext]::new('New-MamlHelp', $true)
$script:LoadContext.add_Resolving([Func[System.Runtime.Loader.AssemblyLoadContext, System.Reflection.AssemblyName, System.Reflection.Assembly]] {
        param($context, $name)
        $candidate = Join-Path $AssemblyDir "$($name.Name).dll"
        if (-not (Test-Path -LiteralPath $candidate -PathType Leaf)) { return $null }
        $stream = [System.IO.MemoryStream]::new([System.IO.File]::ReadAllBytes($candidate))
        try { return $context.LoadFromStream($stream) } finally { $stream.Dispose() }
    })

function Import-AssemblyBytes([string] $Path) {
    $stream = [System.IO.MemoryStream]::new([System.IO.File]::ReadAllBytes($Path))
    try { return $script:LoadContext.LoadFromStream($stream) } finally { $stream.Dispose() }
}

$assembly = Import-AssemblyBytes $AssemblyPath
try {
    $types = $assembly.GetTypes()
} catch [System.Reflection.ReflectionTypeLoadException] {
    $loaderErrors = ($_.Exception.LoaderExceptions | ForEach-Object Message | Select-Object -Unique) -join '; '
    throw "New-MamlHelp: cannot read the types of '$AssemblyPath': $loaderErrors"
}

# --- Doc comments ---------------------------------------------------------------------------------------------------
$docs = @{}
function Add-DocFile([string] $Path) {
    if (-not (Test-Path -LiteralPath $Path -PathType Leaf)) { return }
    $xml = [System.Xml.XmlDocument]::new()
    $xml.PreserveWhitespace = $true
    $xml.Load($Path)
    foreach ($member in $xml.SelectNodes('/doc/members/member')) {
        $docs[$member.GetAttribute('name')] = $member
    }
}
Add-DocFile $DocumentationPath

function Get-DocId([string] $Prefix, [type] $Type, [string] $Member) {
    $name = $Type.FullName -replace '\+', '.' -replace '`\d+', ''
    if ($Member) { "${Prefix}:$name.$Member" } else { "${Prefix}:$name" }
}

function Get-DocMember([string] $Id, [System.Reflection.Assembly] $Owner) {
    if (-not $docs.ContainsKey($Id) -and $Owner -and $Owner.GetName().Name) {
        # Output types may live in a referenced assembly with its own documentation file.
        $file = Join-Path $AssemblyDir "$($Owner.GetName().Name).xml"
        if (-not $script:LoadedDocFiles.Contains($file)) { [void] $script:LoadedDocFiles.Add($file); Add-DocFile $file }
    }
    $docs[$Id]
}
$script:LoadedDocFiles = [System.Collections.Generic.HashSet[string]]::new()
[void] $script:LoadedDocFiles.Add($DocumentationPath)

# Inline text of a doc node: <see cref>, <paramref>, <c> and plain text; whitespace collapsed.
function Get-InlineText($Node) {
    $sb = [System.Text.StringBuilder]::new()
    foreach ($child in $Node.ChildNodes) {
        switch ($child.NodeType) {
            { $_ -in 'Text', 'CDATA', 'Whitespace', 'SignificantWhitespace' } { [void] $sb.Append($child.Value); continue }
            'Element' {
                switch ($child.LocalName) {
                    'see' {
                        if ($child.HasAttribute('langword')) { [void] $sb.Append($child.GetAttribute('langword')) }
                        elseif ($child.InnerText) { [void] $sb.Append($child.InnerText) }
                        elseif ($child.HasAttribute('cref')) { [void] $sb.Append(($child.GetAttribute('cref') -split '[.:]')[-1]) }
                        elseif ($child.HasAttribute('href')) { [void] $sb.Append($child.GetAttribute('href')) }
                    }
                    { $_ -in 'paramref', 'typeparamref' } { [void] $sb.Append($child.GetAttribute('name')) }
                    { $_ -in 'example', 'code' } { }
                    default { [void] $sb.Append((Get-InlineText $child)) }
                }
            }
        }
    }
    ($sb.ToString() -replace '\s+', ' ').Trim()
}

# Code keeps its lines; the indentation the compiler adds to continuation lines is removed.
function Get-CodeText($Node) {
    $lines = $Node.InnerText.Replace("`r`n", "`n") -split "`n"
    $rest = @($lines | Select-Object -Skip 1 | Where-Object { $_.Trim() })
    $indent = if ($rest) { ($rest | ForEach-Object { $_.Length - $_.TrimStart().Length } | Measure-Object -Minimum).Minimum } else { 0 }
    $out = for ($i = 0; $i -lt $lines.Count; $i++) {
        $line = $lines[$i].TrimEnd()
        if ($i -gt 0 -and $line.Length -ge $indent) { $line.Substring($indent) } else { $line.TrimStart() }
    }
    ($out -join "`n").Trim()
}

# Synopsis, description paragraphs and examples of a cmdlet's type member.
function Read-CommandDoc($Member) {
    $result = [ordered]@{ Synopsis = ''; Description = @(); Examples = @() }
    if (-not $Member) { return $result }
    $summary = $Member.SelectSingleNode('summary')
    foreach ($scope in @($summary, $Member) | Where-Object { $_ }) {
        foreach ($para in $scope.SelectNodes('para')) {
            $text = Get-InlineText $para
            switch ($para.GetAttribute('type')) {
                'synopsis' { if (-not $result.Synopsis) { $result.Synopsis = $text } }
                'description' { if ($text) { $result.Description += $text } }
            }
        }
        foreach ($example in $scope.SelectNodes('example')) {
            $codeNode = $example.SelectSingleNode('code')
            $code = if ($codeNode) { Get-CodeText $codeNode } else { '' }
            $remarks = @(foreach ($para in $example.SelectNodes('para')) { $t = Get-InlineText $para; if ($t) { $t } })
            $loose = Get-InlineText $example   # text outside <code> and <para>
            if ($loose -and -not $remarks) { $remarks = @($loose) }
            $result.Examples += [pscustomobject]@{ Code = $code; Remarks = $remarks }
        }
    }
    $result
}

# A parameter's description: the <para type="description"> paragraphs, else the plain summary text.
function Read-ParameterDoc($Member) {
    if (-not $Member) { return @() }
    $summary = $Member.SelectSingleNode('summary')
    if (-not $summary) { return @() }
    $paras = @(foreach ($para in $summary.SelectNodes('para[@type="description"]')) { $t = Get-InlineText $para; if ($t) { $t } })
    if ($paras) { return $paras }
    $plain = Get-InlineText $summary
    if ($plain) { @($plain) } else { @() }
}

# --- Reflection -----------------------------------------------------------------------------------------------------
$CmdletAttribute = [System.Management.Automation.CmdletAttribute]
$ParameterAttribute = [System.Management.Automation.ParameterAttribute]
$AllSets = [System.Management.Automation.ParameterAttribute]::AllParameterSets

function Get-ShortTypeName([type] $Type) {
    $inner = [Nullable]::GetUnderlyingType($Type)
    if ($inner) { $Type = $inner }
    if ($Type.IsArray) { return (Get-ShortTypeName $Type.GetElementType()) + '[]' }
    if ($Type.IsGenericType) {
        $typeArgs = ($Type.GetGenericArguments() | ForEach-Object { Get-ShortTypeName $_ }) -join ', '
        return ($Type.Name -replace '`\d+$', '') + "[$typeArgs]"
    }
    $Type.Name
}

function Get-FullTypeName([type] $Type) {
    $inner = [Nullable]::GetUnderlyingType($Type)
    if ($inner) { $Type = $inner }
    if ($Type.IsArray) { return (Get-FullTypeName $Type.GetElementType()) + '[]' }
    if ($Type.IsGenericType) {
        $typeArgs = ($Type.GetGenericArguments() | ForEach-Object { Get-FullTypeName $_ }) -join ', '
        return ($Type.GetGenericTypeDefinition().FullName -replace '`\d+$', '') + "[$typeArgs]"
    }
    $Type.FullName
}

function Format-DefaultValue($Value) {
    if ($null -eq $Value) { return 'None' }
    if ($Value -is [System.Management.Automation.SwitchParameter]) { return $(if ($Value.IsPresent) { 'True' } else { 'False' }) }
    if ($Value -is [string]) { return $(if ($Value) { $Value } else { 'None' }) }
    if ($Value -is [System.Collections.IEnumerable]) {
        $items = @($Value)
        return $(if ($items.Count) { ($items | ForEach-Object { [string] $_ }) -join ', ' } else { 'None' })
    }
    if ($Value -is [System.IFormattable]) { return $Value.ToString($null, [cultureinfo]::InvariantCulture) }
    [string] $Value
}

function Read-Cmdlet([type] $Type) {
    $cmdletAttr = $Type.GetCustomAttributes($CmdletAttribute, $true) | Select-Object -First 1
    $name = "$($cmdletAttr.VerbName)-$($cmdletAttr.NounName)"
    $doc = Read-CommandDoc (Get-DocMember (Get-DocId 'T' $Type) $null)

    # A fresh instance gives the properties' initial values (defaults); a cmdlet that cannot be built has none.
    $instance = $null
    try { $instance = [Activator]::CreateInstance($Type) } catch { Write-Verbose "${name}: no default values ($($_.Exception.Message))" }

    $parameters = [System.Collections.Generic.List[object]]::new()
    foreach ($property in $Type.GetProperties([System.Reflection.BindingFlags] 'Public, Instance')) {
        $paramAttrs = @($property.GetCustomAttributes($ParameterAttribute, $true))
        if (-not $paramAttrs) { continue }
        $aliases = @($property.GetCustomAttributes([System.Management.Automation.AliasAttribute], $true) | ForEach-Object AliasNames)
        $validateSet = @($property.GetCustomAttributes([System.Management.Automation.ValidateSetAttribute], $true) | ForEach-Object ValidValues)
        $valueType = $property.PropertyType
        $underlying = [Nullable]::GetUnderlyingType($valueType)
        $enumType = if ($underlying) { $underlying } else { $valueType }
        if (-not $validateSet -and $enumType.IsEnum) { $validateSet = [Enum]::GetNames($enumType) }
        $default = 'None'
        if ($instance) { try { $default = Format-DefaultValue ($property.GetValue($instance)) } catch { } }
        $memberDoc = Get-DocMember (Get-DocId 'P' $property.DeclaringType $property.Name) $null
        $parameters.Add([pscustomobject]@{
                Name        = $property.Name
                Type        = $valueType
                IsSwitch    = $valueType -eq [System.Management.Automation.SwitchParameter]
                Sets        = $paramAttrs
                Aliases     = $aliases
                ValidValues = $validateSet
                Default     = $default
                Description = @(Read-ParameterDoc $memberDoc)
            })
    }

    if ($cmdletAttr.SupportsShouldProcess) {
        foreach ($risk in @(
                @{ Name = 'WhatIf'; Alias = 'wi'; Text = 'Shows what would happen if the cmdlet runs. The cmdlet is not run.' }
                @{ Name = 'Confirm'; Alias = 'cf'; Text = 'Prompts you for confirmation before running the cmdlet.' })) {
            if ($parameters.Name -contains $risk.Name) { continue }
            $attr = [System.Management.Automation.ParameterAttribute]::new()
            $parameters.Add([pscustomobject]@{
                    Name = $risk.Name; Type = [System.Management.Automation.SwitchParameter]; IsSwitch = $true; Sets = @($attr)
                    Aliases = @($risk.Alias); ValidValues = @(); Default = 'False'; Description = @($risk.Text)
                })
        }
    }

    $outputTypes = @(foreach ($attr in $Type.GetCustomAttributes([System.Management.Automation.OutputTypeAttribute], $true)) {
            foreach ($t in $attr.Type) {
                $resolved = $t.Type
                [pscustomobject]@{
                    Name        = if ($resolved) { Get-FullTypeName $resolved } else { $t.Name }
                    Description = if ($resolved) { @(Read-ParameterDoc (Get-DocMember (Get-DocId 'T' $resolved) $resolved.Assembly)) } else { @() }
                }
            }
        })

    [pscustomobject]@{
        Name        = $name
        Verb        = $cmdletAttr.VerbName
        Noun        = $cmdletAttr.NounName
        TypeName    = $Type.FullName
        DefaultSet  = $cmdletAttr.DefaultParameterSetName
        Synopsis    = $doc.Synopsis
        Description = $doc.Description
        Examples    = $doc.Examples
        Parameters  = $parameters
        OutputTypes = $outputTypes
    }
}

function Test-CmdletDoc($Cmdlet) {
    $problems = @()
    if (-not $Cmdlet.Synopsis) { $problems += "$($Cmdlet.Name) ($($Cmdlet.TypeName)): no <para type=""synopsis""> in the class summary." }
    if (-not $Cmdlet.Description) { $problems += "$($Cmdlet.Name) ($($Cmdlet.TypeName)): no <para type=""description""> in the class summary." }
    if (-not @($Cmdlet.Examples | Where-Object Code)) { $problems += "$($Cmdlet.Name) ($($Cmdlet.TypeName)): no <example> with <code>." }
    $i = 0
    foreach ($example in $Cmdlet.Examples) {
        $i++
        if (-not $example.Code) { $problems += "$($Cmdlet.Name): example $i has no <code>." }
    }
    foreach ($p in $Cmdlet.Parameters | Where-Object { -not $_.Description }) {
        $problems += "$($Cmdlet.Name): parameter -$($p.Name) has no description (add /// <summary><para type=""description"">...</para></summary> above the property)."
    }
    $problems
}

# --- Parameter sets -------------------------------------------------------------------------------------------------
# The parameter sets of a cmdlet, default first; a parameter in no named set is in all of them.
function Get-SetNames($Cmdlet) {
    $named = @($Cmdlet.Parameters | ForEach-Object { $_.Sets.ParameterSetName } | Where-Object { $_ -ne $AllSets } | Select-Object -Unique)
    if (-not $named) { return @($AllSets) }
    $default = $Cmdlet.DefaultSet
    @($named | Where-Object { $_ -eq $default }) + @($named | Where-Object { $_ -ne $default })
}

# The [Parameter] attribute that applies to a parameter in one set, or $null when it is not in that set.
function Get-SetAttribute($Parameter, [string] $SetName) {
    $exact = $Parameter.Sets | Where-Object ParameterSetName -eq $SetName | Select-Object -First 1
    if ($exact) { return $exact }
    $Parameter.Sets | Where-Object ParameterSetName -eq $AllSets | Select-Object -First 1
}

function Format-Position([int] $Position) { if ($Position -lt 0) { 'named' } else { [string] $Position } }

function Format-PipelineInput($Attributes) {
    $byValue = @($Attributes | Where-Object ValueFromPipeline).Count -gt 0
    $byName = @($Attributes | Where-Object ValueFromPipelineByPropertyName).Count -gt 0
    if ($byValue -and $byName) { 'True (ByValue, ByPropertyName)' }
    elseif ($byValue) { 'True (ByValue)' }
    elseif ($byName) { 'True (ByPropertyName)' }
    else { 'False' }
}

# --- MAML writer ----------------------------------------------------------------------------------------------------
$ns = @{
    msh     = 'http://msh'
    maml    = 'http://schemas.microsoft.com/maml/2004/10'
    command = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
    dev     = 'http://schemas.microsoft.com/maml/dev/2004/10'
}

function Write-Element($W, [string] $Prefix, [string] $Name, [string] $Text) {
    $W.WriteElementString($Prefix, $Name, $ns[$Prefix], $Text)
}

function Write-Description($W, [string[]] $Paragraphs) {
    $W.WriteStartElement('maml', 'description', $ns.maml)
    foreach ($p in $Paragraphs) { Write-Element $W 'maml' 'para' $p }
    $W.WriteEndElement()
}

function Write-DevType($W, [type] $Type) {
    $W.WriteStartElement('dev', 'type', $ns.dev)
    Write-Element $W 'maml' 'name' (Get-FullTypeName $Type)
    Write-Element $W 'maml' 'uri' ''
    $W.WriteEndElement()
}

function Write-ParameterElement($W, $Parameter, [bool] $Required, [string] $Position, [string] $PipelineInput, [bool] $InSyntax) {
    $W.WriteStartElement('command', 'parameter', $ns.command)
    $W.WriteAttributeString('required', $Required.ToString().ToLowerInvariant())
    $W.WriteAttributeString('variableLength', $Parameter.Type.IsArray.ToString().ToLowerInvariant())
    $W.WriteAttributeString('globbing', 'false')
    $W.WriteAttributeString('pipelineInput', $PipelineInput)
    $W.WriteAttributeString('position', $Position)
    $W.WriteAttributeString('aliases', $(if ($Parameter.Aliases) { $Parameter.Aliases -join ', ' } else { 'none' }))
    Write-Element $W 'maml' 'name' $Parameter.Name
    Write-Description $W $Parameter.Description
    $short = Get-ShortTypeName $Parameter.Type
    if ($InSyntax -and $Parameter.ValidValues) {
        $W.WriteStartElement('command', 'parameterValueGroup', $ns.command)
        foreach ($v in $Parameter.ValidValues) {
            $W.WriteStartElement('command', 'parameterValue', $ns.command)
            $W.WriteAttributeString('required', 'false')
            $W.WriteAttributeString('command', 'variableLength', $ns.command, 'false')
            $W.WriteString($v)
            $W.WriteEndElement()
        }
        $W.WriteEndElement()
    } elseif (-not ($InSyntax -and $Parameter.IsSwitch)) {
        $W.WriteStartElement('command', 'parameterValue', $ns.command)
        $W.WriteAttributeString('required', $(if ($Parameter.IsSwitch) { 'false' } else { 'true' }))
        $W.WriteAttributeString('variableLength', 'false')
        $W.WriteString($short)
        $W.WriteEndElement()
    }
    Write-DevType $W $Parameter.Type
    Write-Element $W 'dev' 'defaultValue' $Parameter.Default
    $W.WriteEndElement()
}

function Write-Command($W, $Cmdlet) {
    $W.WriteStartElement('command', 'command', $ns.command)

    $W.WriteStartElement('command', 'details', $ns.command)
    Write-Element $W 'command' 'name' $Cmdlet.Name
    Write-Element $W 'command' 'verb' $Cmdlet.Verb
    Write-Element $W 'command' 'noun' $Cmdlet.Noun
    Write-Description $W @($Cmdlet.Synopsis)
    $W.WriteEndElement()

    Write-Description $W $Cmdlet.Description

    # Syntax: one item per parameter set; positional first (by position), then mandatory, then the rest, switches last.
    $W.WriteStartElement('command', 'syntax', $ns.command)
    foreach ($set in Get-SetNames $Cmdlet) {
        $W.WriteStartElement('command', 'syntaxItem', $ns.command)
        Write-Element $W 'maml' 'name' $Cmdlet.Name
        $members = foreach ($p in $Cmdlet.Parameters) {
            $attr = Get-SetAttribute $p $set
            if ($attr) { [pscustomobject]@{ Parameter = $p; Attribute = $attr } }
        }
        $ordered = $members | Sort-Object -Stable -Property `
        @{ Expression = { if ($_.Attribute.Position -ge 0) { 0 } elseif ($_.Attribute.Mandatory) { 1 } elseif (-not $_.Parameter.IsSwitch) { 2 } else { 3 } } },
        @{ Expression = { $_.Attribute.Position } }
        foreach ($m in $ordered) {
            Write-ParameterElement $W $m.Parameter $m.Attribute.Mandatory (Format-Position $m.Attribute.Position) (Format-PipelineInput @($m.Attribute)) $true
        }
        $W.WriteEndElement()
    }
    $W.WriteEndElement()

    # Parameters: each once, in declaration order. Required when mandatory in every set it belongs to; the position
    # when it has one (the same) in the sets where it is positional.
    $W.WriteStartElement('command', 'parameters', $ns.command)
    foreach ($p in $Cmdlet.Parameters) {
        $required = @($p.Sets | Where-Object { -not $_.Mandatory }).Count -eq 0
        $positions = @($p.Sets | ForEach-Object Position | Where-Object { $_ -ge 0 } | Select-Object -Unique)
        $position = if ($positions.Count -eq 1) { [string] $positions[0] } else { 'named' }   # per-set detail is in the syntax
        Write-ParameterElement $W $p $required $position (Format-PipelineInput $p.Sets) $false
    }
    $W.WriteEndElement()

    # Inputs: the parameters that take pipeline input.
    $W.WriteStartElement('command', 'inputTypes', $ns.command)
    $piped = @($Cmdlet.Parameters | Where-Object { $_.Sets | Where-Object { $_.ValueFromPipeline -or $_.ValueFromPipelineByPropertyName } })
    if (-not $piped) {
        $W.WriteStartElement('command', 'inputType', $ns.command)
        $W.WriteStartElement('dev', 'type', $ns.dev); Write-Element $W 'maml' 'name' 'None'; $W.WriteEndElement()
        Write-Description $W @('This cmdlet does not take pipeline input.')
        $W.WriteEndElement()
    }
    foreach ($p in $piped) {
        $byValue = @($p.Sets | Where-Object ValueFromPipeline).Count -gt 0
        $byName = @($p.Sets | Where-Object ValueFromPipelineByPropertyName).Count -gt 0
        $how = if ($byValue -and $byName) { "You can pipe a value to -$($p.Name), or objects with a $($p.Name) property." }
        elseif ($byValue) { "You can pipe a value to -$($p.Name)." }
        else { "Objects with a $($p.Name) property$(if ($p.Aliases) { " (or $($p.Aliases -join ', '))" }) bind to -$($p.Name)." }
        $W.WriteStartElement('command', 'inputType', $ns.command)
        Write-DevType $W $p.Type
        Write-Description $W @($how)
        $W.WriteEndElement()
    }
    $W.WriteEndElement()

    $W.WriteStartElement('command', 'returnValues', $ns.command)
    foreach ($o in $Cmdlet.OutputTypes) {
        $W.WriteStartElement('command', 'returnValue', $ns.command)
        $W.WriteStartElement('dev', 'type', $ns.dev); Write-Element $W 'maml' 'name' $o.Name; Write-Element $W 'maml' 'uri' ''; $W.WriteEndElement()
        Write-Description $W $o.Description
        $W.WriteEndElement()
    }
    $W.WriteEndElement()

    $W.WriteStartElement('command', 'examples', $ns.command)
    $i = 0
    foreach ($example in $Cmdlet.Examples) {
        $i++
        $W.WriteStartElement('command', 'example', $ns.command)
        Write-Element $W 'maml' 'title' "-------------------------- Example $i --------------------------"
        Write-Element $W 'dev' 'code' $example.Code
        $W.WriteStartElement('dev', 'remarks', $ns.dev)
        foreach ($r in $example.Remarks) { Write-Element $W 'maml' 'para' $r }
        Write-Element $W 'maml' 'para' ''   # a blank line before the next example, as PowerShell's own help has
        $W.WriteEndElement()
        $W.WriteEndElement()
    }
    $W.WriteEndElement()

    $W.WriteEndElement()   # command:command
}

# --- Main -----------------------------------------------------------------------------------------------------------
$cmdletTypes = @($types | Where-Object { $_.IsPublic -and -not $_.IsAbstract -and $_.IsDefined($CmdletAttribute, $true) } | Sort-Object FullName)
if (-not $cmdletTypes) { throw "New-MamlHelp: '$AssemblyPath' has no public [Cmdlet] types." }
$cmdlets = @(foreach ($t in $cmdletTypes) { Read-Cmdlet $t }) | Sort-Object Name

$problems = @(foreach ($c in $cmdlets) { Test-CmdletDoc $c })
if ($problems) {
    # One line per problem on stderr (readable in a build log), then a one-line terminating error naming the cmdlets.
    foreach ($p in $problems) { [Console]::Error.WriteLine("New-MamlHelp: $p") }
    $names = ($problems | ForEach-Object { ($_ -split '[ :]')[0] } | Select-Object -Unique) -join ', '
    throw "New-MamlHelp: incomplete help for $names; $($problems.Count) problem(s), listed above. Nothing written."
}

$settings = [System.Xml.XmlWriterSettings]::new()
$settings.Indent = $true
$settings.IndentChars = '  '
$settings.Encoding = [System.Text.UTF8Encoding]::new($false)
$settings.NewLineChars = "`n"
$temp = "$OutputPath.tmp"
$writer = [System.Xml.XmlWriter]::Create($temp, $settings)
try {
    $writer.WriteStartDocument()
    $writer.WriteStartElement('helpItems', $ns.msh)
    $writer.WriteAttributeString('schema', 'maml')
    $writer.WriteAttributeString('xmlns', 'maml', $null, $ns.maml)
    $writer.WriteAttributeString('xmlns', 'command', $null, $ns.command)
    $writer.WriteAttributeString('xmlns', 'dev', $null, $ns.dev)
    foreach ($c in $cmdlets) { Write-Command $writer $c }
    $writer.WriteEndElement()
    $writer.WriteEndDocument()
} finally {
    $writer.Dispose()
}
Move-Item -LiteralPath $temp -Destination $OutputPath -Force
Write-Host "New-MamlHelp: $($cmdlets.Count) cmdlet(s) -> $OutputPath"
