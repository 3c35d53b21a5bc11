import type {
  V1Node,
  V1NodeSelectorRequirement,
  V1NodeSelectorTerm,
  V1PodSpec,
} from '@kubernetes/client-node';
import { requirementHolds } from './label-selector.ts';

/**
 * Whether a pod template may land on a node as far as its `nodeSelector` and required node affinity go (the
 * scheduler's NodeAffinity filter): every nodeSelector label, and at least one nodeSelectorTerm whose
 * expressions and fields all hold. Taints, resources and pod (anti-)affinity are not considered. Pure.
 */
export function templateFitsNode(spec: V1PodSpec | undefined, node: V1Node): boolean {
  const labels = node.metadata?.labels ?? {};
  for (const [key, value] of Object.entries(spec?.nodeSelector ?? {})) {
    if (labels[key] !== value) return false;
  }
  const terms =
    spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (!terms || terms.length === 0) return true;
  return terms.some((term) => termMatches(term, node));
}

/**
 * The sum of the weights of the pod's preferred node-affinity terms that the node matches: kube-scheduler's
 * NodeAffinity score before it is normalised over the candidates. Pure.
 */
export function preferredAffinityWeight(spec: V1PodSpec | undefined, node: V1Node): number {
  const preferred = spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
  let sum = 0;
  for (const { weight, preference } of preferred) {
    if (weight > 0 && termMatches(preference, node)) sum += weight;
  }
  return sum;
}

function termMatches(term: V1NodeSelectorTerm, node: V1Node): boolean {
  const expressions = term.matchExpressions ?? [];
  const fieldExpressions = term.matchFields ?? [];
  // An empty term matches nothing (as in Kubernetes).
  if (expressions.length === 0 && fieldExpressions.length === 0) return false;
  const labels = node.metadata?.labels ?? {};
  const fields: Record<string, string> = { 'metadata.name': node.metadata?.name ?? '' };
  return (
    expressions.every((requirement) => nodeRequirementHolds(requirement, labels)) &&
    fieldExpressions.every((requirement) => nodeRequirementHolds(requirement, fields))
  );
}

function nodeRequirementHolds(
  requirement: V1NodeSelectorRequirement,
  values: Readonly<Record<string, string>>,
): boolean {
  const value = values[requirement.key];
  const listed = requirement.values ?? [];
  if (requirement.operator !== 'Gt' && requirement.operator !== 'Lt')
    return requirementHolds(requirement.operator, value, listed);
  const actual = Number.parseInt(value ?? '', 10);
  const bound = Number.parseInt(listed[0] ?? '', 10);
  if (Number.isNaN(actual) || Number.isNaN(bound)) return false;
  return requirement.operator === 'Gt' ? actual > bound : actual < bound;
}
