// A dedicated module worker: import() is allowed here, so crossTab needs nothing more.
import { serve } from './session.js';

serve(self);
