/** The studies `gradlab replicate` knows, in the order it lists them. */
import type { Study } from "../study.ts";
import { glorot2010 } from "./glorot2010.ts";
import { he2015 } from "./he2015.ts";
import { le2015 } from "./le2015.ts";
import { nielsenCh5 } from "./nielsen-ch5.ts";
import { pascanu2013 } from "./pascanu2013.ts";

/** Every study, in the order `gradlab replicate` lists them. */
export const STUDIES: readonly Study[] = [glorot2010, he2015, le2015, pascanu2013, nielsenCh5];
