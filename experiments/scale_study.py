"""Large studies for the scaling benchmarks (issue 17), built from shipped data, not by hand.

``write_study(n, path)`` writes a study file of ``n`` species: copies of the five species of
``scenarios/five_species.toml`` in turn (Hudsonia, desert tortoise, killer whale, grizzly,
*Mammillaria*; each copy renamed ``"<name> #<copy>"`` and given its own threats and interventions,
copied from that study), under its three scenarios ("no action", "abate threats", "recommended
actions"); 1,000 replicates x 100 years by default. The species files (``scenarios/species/*.toml``)
read their matrices from the data shipped in the package (:mod:`pva.datasets`).

Run ``python experiments/scale_study.py 100 /tmp/study100.toml`` to write one.
"""

from __future__ import annotations

import argparse
import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FIVE_SPECIES = ROOT / "scenarios" / "five_species.toml"


def _toml_value(value: Any) -> str:
    """A TOML value: strings, numbers, booleans, lists and inline tables of them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML form for {value!r}")


def _table(header: str, table: Mapping[str, Any]) -> str:
    lines = [header] + [f"{k} = {_toml_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


_SITE_KEYS = ("initial", "initial_total", "carrying_capacity")


def _with_sites(path: Path, name: str, sites: int) -> dict[str, Any]:
    """The species table of ``path``, inline, split into ``sites`` equal sites (populations)
    without dispersal: each with the species' initial individuals and carrying capacity (so the
    study holds ``sites`` times the individuals)."""
    table = tomllib.loads(path.read_text(encoding="utf-8"))
    site = {k: table.pop(k) for k in _SITE_KEYS if k in table}
    table["name"] = name
    table["populations"] = [{"name": f"site {k + 1}", **site} for k in range(sites)]
    return table


def study_document(
    n_species: int,
    *,
    years: int = 100,
    replicates: int = 1000,
    seed: int = 2026,
    sites: int = 1,
    first: int = 0,
) -> str:
    """The text of a study file of ``n_species`` copies of the five species (see the module),
    each split into ``sites`` sites when ``sites > 1``; the copies start with the five's species
    number ``first`` (0: Hudsonia, 1: tortoise, 2: killer whale, 3: grizzly, 4: *Mammillaria*)."""
    five = tomllib.loads(FIVE_SPECIES.read_text(encoding="utf-8"))
    species_dir = FIVE_SPECIES.parent
    originals = []
    for table in five["species"]:
        path = (species_dir / table["file"]).resolve()
        originals.append((path, tomllib.loads(path.read_text(encoding="utf-8"))["name"]))
    parts = [
        _table(
            "[study]",
            {
                "name": f"scale_{n_species}_species",
                "description": f"{n_species} copies of the five species (issue 17 benchmarks)",
                "years": years,
                "replicates": replicates,
                "seed": seed,
            },
        )
    ]
    threats, interventions, actions = [], [], {"abate": [], "recommended": []}
    abate = set(next(s for s in five["scenarios"] if s["name"] == "abate threats")["actions"])
    for i in range(n_species):
        path, name = originals[(i + first) % len(originals)]
        copy = f"{name} #{i // len(originals) + 1}"
        if sites > 1:
            parts.append(_table("[[species]]", _with_sites(path, copy, sites)))
        else:
            parts.append(_table("[[species]]", {"file": str(path), "name": copy}))
        threats.extend(
            {**threat, "name": f"{threat['name']} #{i}", "species": [copy]}
            for threat in five["threats"]
            if threat["species"] == [name]
        )
        for action in five["interventions"]:
            if action["species"] == [name]:
                new = {**action, "name": f"{action['name']} #{i}", "species": [copy]}
                if "threat" in action:
                    new["threat"] = f"{action['threat']} #{i}"
                interventions.append(new)
                actions["recommended"].append(new["name"])
                if action["name"] in abate:
                    actions["abate"].append(new["name"])
    parts += [_table("[[threats]]", t) for t in threats]
    parts += [_table("[[interventions]]", a) for a in interventions]
    parts.append(_table("[[scenarios]]", {"name": "no action"}))
    parts.append(_table("[[scenarios]]", {"name": "abate threats", "actions": actions["abate"]}))
    parts.append(
        _table("[[scenarios]]", {"name": "recommended actions", "actions": actions["recommended"]})
    )
    outputs = dict(five.get("outputs", {}))
    outputs["horizons"] = [h for h in outputs.get("horizons", []) if h <= years]
    parts.append(_table("[outputs]", outputs))
    return "\n".join(parts)


def write_study(
    n_species: int,
    path: str | Path,
    *,
    years: int = 100,
    replicates: int = 1000,
    seed: int = 2026,
    sites: int = 1,
    first: int = 0,
) -> Path:
    """Write :func:`study_document` to ``path``; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = study_document(
        n_species, years=years, replicates=replicates, seed=seed, sites=sites, first=first
    )
    path.write_text(text, encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("species", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--years", type=int, default=100)
    parser.add_argument("--replicates", type=int, default=1000)
    parser.add_argument("--sites", type=int, default=1)
    args = parser.parse_args()
    print(
        write_study(
            args.species, args.out, years=args.years, replicates=args.replicates, sites=args.sites
        )
    )


if __name__ == "__main__":
    main()
