import type { LiveStore } from '../../live';
import type { Labelled, Me } from '../../types';

export interface ExerciseViewProps {
  live: LiveStore;
  me: Me;
  nodeId: string;
  visible: boolean;
  onScreenItems: (items: Labelled[]) => void;
}

/** Being built. */
export function ExerciseView(_props: ExerciseViewProps) {
  return <div className="view-body" data-testid="exercise-view" />;
}
