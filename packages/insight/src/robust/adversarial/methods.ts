// The adversarial training methods `insight train --adversarial` knows (the config's OneOf values).

/** none: plain training; fgsm-rs: FGSM from a random start (Wong et al. 2020); pgd: PGD-k from a random start (Madry et al. 2018). */
export const ADVERSARIAL_METHODS = ['none', 'fgsm-rs', 'pgd'] as const;
export type AdversarialMethod = (typeof ADVERSARIAL_METHODS)[number];
